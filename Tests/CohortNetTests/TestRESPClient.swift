import CohortCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking RESP client for tests: one TCP connection to 127.0.0.1 with a receive timeout,
/// so a test can never hang on a silent server.
final class TestRESPClient {
    enum ClientError: Error { case connectFailed(Int32), closed, timeout, protocolError(String) }

    private let socketDescriptor: Int32
    private var pending: [UInt8] = []
    private var parser = RESPValueParser()

    init(port: Int, timeoutSeconds: Int = 10) throws {
        socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            // No close here: the instance is fully initialised, so `deinit` runs and closes
            // the socket. Closing it twice closed whatever descriptor the number had been
            // reused for meanwhile (a SwiftNIO socket in a parallel test crashed on it).
            throw ClientError.connectFailed(errno)
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(
            socketDescriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout,
            socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(socketDescriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(4))
    }

    deinit { close(socketDescriptor) }

    /// Sends raw bytes.
    func send(raw bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(socketDescriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { throw ClientError.closed }
            offset += written
        }
    }

    /// Sends one command as a multibulk array.
    func send(_ arguments: [String]) throws {
        try send(raw: Self.encode(arguments))
    }

    static func encode(_ arguments: [String]) -> [UInt8] {
        var bytes = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments {
            let utf8 = Array(argument.utf8)
            bytes += Array("$\(utf8.count)\r\n".utf8) + utf8 + [13, 10]
        }
        return bytes
    }

    /// Reads one reply.
    func readReply() throws -> RESPValue {
        while true {
            let outcome = pending.withUnsafeBytes { parser.parse($0) }
            switch outcome {
            case .value(let value, let consumed):
                pending.removeFirst(consumed)
                return value
            case .protocolError(let message):
                throw ClientError.protocolError(message)
            case .needMoreData:
                var chunk = [UInt8](repeating: 0, count: 65_536)
                let count = chunk.withUnsafeMutableBytes {
                    recv(socketDescriptor, $0.baseAddress, $0.count, 0)
                }
                if count == 0 { throw ClientError.closed }
                if count < 0 { throw errno == EAGAIN ? ClientError.timeout : ClientError.closed }
                pending += chunk[0..<count]
            }
        }
    }

    /// Sends a command and reads its reply.
    @discardableResult
    func call(_ arguments: String...) throws -> RESPValue {
        try call(arguments)
    }

    /// Sends a command given as an array and reads its reply.
    @discardableResult
    func call(_ arguments: [String]) throws -> RESPValue {
        try send(arguments)
        return try readReply()
    }

    /// True once the server has closed the connection (reads EOF), false on timeout.
    func readsEndOfStream() -> Bool {
        var byte = [UInt8](repeating: 0, count: 4_096)
        while true {
            let count = byte.withUnsafeMutableBytes {
                recv(socketDescriptor, $0.baseAddress, $0.count, 0)
            }
            if count == 0 { return true }
            if count < 0 { return errno != EAGAIN }
        }
    }
}

extension RESPValue {
    /// The bytes of a bulk or simple string reply as text, for assertions.
    var text: String? {
        switch self {
        case .bulkString(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .simpleString(let text), .error(let text): return text
        default: return nil
        }
    }
}
