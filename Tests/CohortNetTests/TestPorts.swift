import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Loopback ports for the process tests. A port the kernel called free is released before a
/// server binds it, so another test running in parallel could be handed the same number (by
/// `bind` to port 0, as a proxy does). Every port handed out here, and every proxy's port, is
/// remembered for the life of the test process and never handed out again; what is left (an
/// outgoing connection's local port landing on a chosen number) is rare, and the cluster
/// harness retries with fresh ports when a server reports its port in use.
enum TestPorts {
    private static let issued = Mutex<Set<Int>>([])

    /// `count` distinct ports that were free a moment ago on 127.0.0.1 and were never handed
    /// out before in this process.
    static func fresh(_ count: Int) -> [Int] {
        var chosen: [Int] = []
        while chosen.count < count {
            // Bound all at once, so the kernel cannot repeat a port within one batch.
            let descriptors = (0..<(count - chosen.count)).map { _ in
                socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            }
            defer { for descriptor in descriptors { close(descriptor) } }
            let ports = descriptors.map { bindEphemeral($0) }
            chosen += issued.withLock { issued in
                ports.filter { $0 != 0 && issued.insert($0).inserted }
            }
        }
        return chosen
    }

    /// Records `port` as in use; false when it had already been handed out.
    static func claim(_ port: Int) -> Bool {
        issued.withLock { $0.insert(port).inserted }
    }

    /// Binds `descriptor` to an ephemeral loopback port and returns the port (0 on failure).
    static func bindEphemeral(_ descriptor: Int32) -> Int {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(descriptor, pointer, length) == 0 else { return -1 }
                return getsockname(descriptor, pointer, &length)
            }
        }
        return result == 0 ? Int(UInt16(bigEndian: address.sin_port)) : 0
    }

    /// Whether a server failed to start because a port it was given is taken.
    static func isPortTaken(_ error: Error) -> Bool {
        guard case ServerProcess.ServerError.notReady(let log) = error else { return false }
        return log.contains("Address already in use")
    }
}
