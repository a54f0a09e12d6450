import CohortCore
import Foundation
import Glibc

/// A minimal blocking RESP client for the launcher and `cohort status`: one connection, one
/// command at a time, every step bounded by a timeout.
final class RESPProbe {
    private let descriptor: Int32

    /// Connects to `host:port` (IPv4 literal or "localhost") within `timeoutMillis`.
    init?(host: String, port: Int, timeoutMillis: Int = 1_000) {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let literal = host == "localhost" ? "127.0.0.1" : host
        guard inet_pton(AF_INET, literal, &address.sin_addr) == 1 else {
            close(socketDescriptor)
            return nil
        }
        var timeout = timeval(
            tv_sec: timeoutMillis / 1_000, tv_usec: Int((timeoutMillis % 1_000) * 1_000))
        setsockopt(
            socketDescriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout,
            socklen_t(MemoryLayout<timeval>.size))
        setsockopt(
            socketDescriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout,
            socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(socketDescriptor)
            return nil
        }
        descriptor = socketDescriptor
    }

    deinit { close(descriptor) }

    /// Sends one command and reads its reply; nil on any failure or timeout.
    func call(_ arguments: [String]) -> RESPValue? {
        var request: [UInt8] = []
        RESPValue.array(arguments.map { .bulkString(Array($0.utf8)) }).encode(
            into: &request, version: .resp2)
        let sent = request.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
        guard sent == request.count else { return nil }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1_024)
        while received.count < 64 << 20 {
            let count = chunk.withUnsafeMutableBytes {
                recv(descriptor, $0.baseAddress, $0.count, 0)
            }
            guard count > 0 else { return nil }
            received.append(contentsOf: chunk[0..<count])
            var parser = RESPValueParser()
            switch received.withUnsafeBytes({ parser.parse($0) }) {
            case .value(let value, _): return value
            case .needMoreData: continue
            default: return nil
            }
        }
        return nil
    }

    /// `INFO replication` as a dictionary; nil when the node does not answer.
    static func replicationInfo(
        host: String, port: Int, keyspace: String = "default"
    ) -> [String: String]? {
        guard let probe = RESPProbe(host: host, port: port) else { return nil }
        if keyspace != "default" {
            guard case .simpleString = probe.call(["COHORT", "USE", keyspace]) else {
                return nil
            }
        }
        guard case .bulkString(let bytes) = probe.call(["INFO", "replication"]) else {
            return nil
        }
        var fields: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }
}
