import CohortCore
import Foundation
import Testing

/// Values far above Raft's old 1 MiB entry bound replicate through real processes, and a write
/// beyond the cluster's limits gets a non-retryable error (REVIEW §7 defect 4).
@Suite(.serialized, .tags(.process, .cluster))
struct LargeValueProcessTests {
    /// `bytes` bytes of a pattern that differs per `seed`, so a value read back cannot be
    /// another one's.
    static func value(bytes: Int, seed: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var out = [UInt8](repeating: 0, count: bytes)
        for index in 0..<bytes { out[index] = alphabet[(index / 7 + seed * 13 + index) % 36] }
        return String(decoding: out, as: UTF8.self)
    }

    /// GET `key` on `port` until it returns `expected` (a linearizable read may wait for the
    /// node to apply) or `seconds` pass.
    static func read(port: Int, key: String, expected: String, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let client = try? TestRESPClient(port: port, timeoutSeconds: 10),
                case .bulkString(let bytes)? = try? client.call("GET", key),
                bytes.elementsEqual(expected.utf8)
            {
                return true
            }
            usleep(100_000)
        }
        return false
    }

    @Test(.timeLimit(.minutes(3)))
    func valuesOfMebibytesReplicateThroughFollowersAndTheLeader() throws {
        let cluster = try TestCluster()
        defer { cluster.shutdown() }
        let leader = try #require(cluster.waitForLeader())
        let followers = (0..<3).filter { $0 != leader }
        // 3 MiB through a follower (forwarded), read on the other follower.
        let medium = Self.value(bytes: 3 << 20, seed: 1)
        let writer = try TestRESPClient(port: cluster.clientPorts[followers[0]], timeoutSeconds: 30)
        #expect(try writer.call("SET", "medium", medium).text == "OK")
        // Bools, so that a failure does not print megabytes of the value.
        let mediumRead = Self.read(
            port: cluster.clientPorts[followers[1]], key: "medium", expected: medium, seconds: 20)
        #expect(mediumRead, "the 3 MiB value was not read back on the other follower")
        // 20 MiB on the leader, read on a follower.
        let large = Self.value(bytes: 20 << 20, seed: 2)
        let leaderClient = try TestRESPClient(port: cluster.clientPorts[leader], timeoutSeconds: 60)
        #expect(try leaderClient.call("SET", "large", large).text == "OK")
        let largeRead = Self.read(
            port: cluster.clientPorts[followers[0]], key: "large", expected: large, seconds: 30)
        #expect(largeRead, "the 20 MiB value was not read back on a follower")
        #expect(try leaderClient.call("STRLEN", "large") == .integer(20 << 20))
        // Ordinary traffic still flows.
        #expect(try writer.call("SET", "small", "v").text == "OK")
        #expect(try writer.call("WAIT", "2", "5000") == .integer(2))
    }

    /// With a 64 KiB bulk limit and 1 KiB keys (small, so that the MSET below stays quick to
    /// evaluate in a debug build), a command beyond the cluster's command bytes and an MSET
    /// whose log entry is beyond its entry bytes both get an `ERR` that names the limit, on a
    /// follower and on the leader, while values up to the bulk limit still replicate.
    @Test(.timeLimit(.minutes(3)))
    func writesBeyondTheLimitsGetAnErrorNotTryAgain() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let configPath = directory.path + "/cohort.conf"
        try "bulk-bytes-max = 65536\nkey-bytes-max = 1024\n".write(
            toFile: configPath, atomically: true, encoding: .utf8)
        let cluster = try TestCluster(extraArguments: ["--config", configPath])
        defer { cluster.shutdown() }
        let leader = try #require(cluster.waitForLeader())
        let follower = (0..<3).first { $0 != leader }!
        let client = try TestRESPClient(port: cluster.clientPorts[follower], timeoutSeconds: 30)
        let nearLimit = Self.value(bytes: 64 << 10, seed: 3)
        #expect(try client.call("SET", "at-limit", nearLimit).text == "OK")
        let part = Self.value(bytes: 60 << 10, seed: 4)
        for port in [cluster.clientPorts[follower], cluster.clientPorts[leader]] {
            let writer = try TestRESPClient(port: port, timeoutSeconds: 30)
            let reply = try writer.call("MSET", "a", part, "b", part, "c", part)
            #expect(
                reply.text?.hasPrefix("ERR ") == true
                    && reply.text?.contains("commandBytesMax") == true, "\(reply)")
        }
        // The command's 127,508 argument bytes fit (the limit is 64 KiB + 1 KiB + 64 KiB), but
        // the 8,500 keys' effects take 212,506 bytes, beyond the 196 KiB entry limit.
        var arguments = ["MSET"]
        for index in 0..<8_500 {
            arguments.append("k" + String(index + 100_000).dropFirst())
            arguments.append("v")
        }
        for port in [cluster.clientPorts[follower], cluster.clientPorts[leader]] {
            let writer = try TestRESPClient(port: port, timeoutSeconds: 30)
            try writer.send(arguments)
            let reply = try writer.readReply()
            #expect(
                reply.text?.hasPrefix("ERR ") == true
                    && reply.text?.contains("entryBytesMax") == true, "\(reply)")
        }
        #expect(try client.call("EXISTS", "a", "k00000") == .integer(0))
        let atLimitRead = Self.read(
            port: cluster.clientPorts[leader], key: "at-limit", expected: nearLimit, seconds: 20)
        #expect(atLimitRead, "the value at the bulk limit was not read back on the leader")
    }
}
