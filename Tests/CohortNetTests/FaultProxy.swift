import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP proxy on 127.0.0.1 that forwards to a target port until it is told to cut the link:
/// `block()` closes every connection and refuses new ones (a network partition as the two
/// ends see it: resets and refused connections), `heal()` lets connections through again.
/// Each direction of each connection is pumped by its own thread with blocking sockets.
final class FaultProxy: Sendable {
    let port: Int
    let targetPort: Int
    private let listener: Int32
    private let state = Mutex<(blocked: Bool, stopped: Bool, sockets: [Int32])>((false, false, []))

    init(targetPort: Int) {
        self.targetPort = targetPort
        // A port another test was handed (and has not bound yet) is not taken: rebind.
        var listener: Int32 = -1
        var port = 0
        for attempt in 1...100 {
            listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(4))
            port = TestPorts.bindEphemeral(listener)
            if (port != 0 && TestPorts.claim(port)) || attempt == 100 { break }
            close(listener)
        }
        self.listener = listener
        listen(listener, 64)
        self.port = port
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Cuts the link: open connections are reset, new ones closed at once.
    func block() {
        // Under the lock, so that no pump closes (and the kernel reuses) a descriptor first.
        state.withLock { state in
            state.blocked = true
            for descriptor in state.sockets { shutdown(descriptor, Int32(SHUT_RDWR)) }
        }
    }

    /// Lets new connections through again.
    func heal() {
        state.withLock { $0.blocked = false }
    }

    /// Stops accepting and closes everything. Idempotent (a cluster is shut down by its test
    /// and again by its deinit): closing the listener twice would close whatever descriptor
    /// the number had been reused for meanwhile.
    func stop() {
        let first = state.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        guard first else { return }
        block()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if state.withLock({ $0.stopped }) { return }
                continue
            }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(targetPort).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            let admitted = state.withLock { state -> Bool in
                guard !state.blocked, !state.stopped, connected == 0 else { return false }
                state.sockets += [client, upstream]
                return true
            }
            guard admitted else {
                close(client)
                close(upstream)
                continue
            }
            Thread { [self] in pump(from: client, to: upstream) }.start()
            Thread { [self] in pump(from: upstream, to: client) }.start()
        }
    }

    private func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1_024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            var sent = 0
            while sent < count {
                let written = buffer.withUnsafeBytes {
                    Glibc.send(
                        destination, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL))
                }
                guard written > 0 else { break }
                sent += written
            }
            guard sent == count else { break }
        }
        // Each pump closes the socket it reads; the other pump closes the other one.
        state.withLock { state in
            shutdown(source, Int32(SHUT_RDWR))
            if state.sockets.contains(destination) { shutdown(destination, Int32(SHUT_RDWR)) }
            state.sockets.removeAll { $0 == source }
            close(source)
        }
    }
}
