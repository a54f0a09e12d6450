import CohortCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Leaderless keyspaces with real processes (issue 19): created online, the texts' shopping
/// cart over RESP (siblings, then the merge), writes and reads through a partition at W = R = 2,
/// anti-entropy alone repairing the replica that was cut off, and states kept across a
/// SIGKILL.
@Suite(.serialized, .tags(.process, .cluster))
struct LeaderlessProcessTests {
    static func client(_ cluster: TestCluster, _ index: Int, keyspace: String) throws
        -> TestRESPClient
    {
        let client = try TestRESPClient(port: cluster.clientPorts[index], timeoutSeconds: 5)
        let deadline = Date().addingTimeInterval(15)
        while try client.call("COHORT", "USE", keyspace).text != "OK" {
            guard Date() < deadline else { throw TestFailure("keyspace \(keyspace) never opened") }
            usleep(100_000)
        }
        return client
    }

    struct TestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    @Test(.timeLimit(.minutes(3)))
    func shoppingCartPartitionAndAntiEntropyWithRealProcesses() throws {
        let cluster = try TestCluster(proxied: true)
        defer { cluster.shutdown() }
        _ = try #require(cluster.waitForLeader())
        let admin = try TestRESPClient(port: cluster.clientPorts[0])
        #expect(
            try admin.call(
                "COHORT", "KEYSPACE", "CREATE", "carts", "STRATEGY", "leaderless", "N", "3", "W",
                "2", "R", "2"
            ).text == "OK")
        // R 1 lets a test read one replica's own state once it is cut off.
        #expect(
            try admin.call(
                "COHORT", "KEYSPACE", "CREATE", "solo", "STRATEGY", "leaderless", "W", "2", "R",
                "1", "SLOPPY", "off"
            ).text == "OK")
        #expect(
            try admin.call("COHORT", "KEYSPACE", "CREATE", "x", "STRATEGY", "leaderless", "N", "4")
                .text?.contains("N 4") == true)
        #expect(
            try admin.call("COHORT", "KEYSPACE", "CREATE", "y", "N", "3", "ACK", "all").text?
                .contains("single-leader options") == true)
        let listed = try admin.call("COHORT", "KEYSPACE", "LIST")
        guard case .array(let lines) = listed else {
            Issue.record("LIST answered \(listed)")
            return
        }
        #expect(lines.contains { $0.text?.hasPrefix("carts strategy=leaderless N 3 W 2") == true })

        // The shopping cart: two clients on two nodes.
        let first = try Self.client(cluster, 0, keyspace: "carts")
        let second = try Self.client(cluster, 1, keyspace: "carts")
        #expect(try first.call("SET", "cart", "milk").text == "OK")
        #expect(try first.call("GET", "cart").text == "milk")
        #expect(try second.call("GET", "cart").text == "milk")
        // Each writes from what it read: concurrent, so both stay.
        #expect(try first.call("SET", "cart", "milk,flour").text == "OK")
        #expect(try second.call("SET", "cart", "milk,eggs").text == "OK")
        let conflict = try first.call("GET", "cart")
        #expect(conflict.text?.hasPrefix("CONFLICT 2 concurrent values") == true, "\(conflict)")
        let siblings = try second.call("COHORT", "SIBLINGS", "cart")
        guard case .array(let parts) = siblings, parts.count == 3, let context = parts[0].text
        else {
            Issue.record("SIBLINGS answered \(siblings)")
            return
        }
        #expect(Set(parts[1...].compactMap(\.text)) == ["milk,flour", "milk,eggs"])
        #expect(
            try second.call("COHORT", "PUT", "cart", "milk,flour,eggs", "CONTEXT", context).text
                == "OK")
        let third = try Self.client(cluster, 2, keyspace: "carts")
        #expect(try third.call("GET", "cart").text == "milk,flour,eggs")
        #expect(try third.call("DEL", "cart") == .integer(1))
        #expect(try first.call("GET", "cart") == .null)
        #expect(try first.call("INCR", "cart").text?.contains("not supported") == true)

        // Node 3 cut off: writes and reads go on at W = R = 2 without a failure.
        cluster.isolate(2)
        let solo = try Self.client(cluster, 0, keyspace: "solo")
        var failures = 0
        for index in 0..<50 {
            if try first.call("SET", "item-\(index)", "v\(index)").text != "OK" { failures += 1 }
            if try first.call("GET", "item-\(index)").text != "v\(index)" { failures += 1 }
            if try solo.call("SET", "s-\(index)", "v\(index)").text != "OK" { failures += 1 }
        }
        #expect(failures == 0)

        // Healed, anti-entropy alone brings node 3 the writes it missed: then cut off again,
        // its own replica (R 1) answers every one.
        cluster.healAll()
        let isolatedReader = try Self.client(cluster, 2, keyspace: "solo")
        let deadline = Date().addingTimeInterval(30)
        var missing = 50
        repeat {
            sleep(1)
            cluster.isolate(2)
            missing = try (0..<50).filter {
                try isolatedReader.call("GET", "s-\($0)").text != "v\($0)"
            }.count
            cluster.healAll()
        } while missing > 0 && Date() < deadline
        #expect(missing == 0, "node 3 still misses \(missing) writes")

        // The keyspace's counters and measured staleness.
        let info = try first.call("INFO", "leaderless").text ?? ""
        let fields = Dictionary(
            info.split(separator: "\r\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: ":", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            }, uniquingKeysWith: { $1 })
        #expect(Int(fields["leaderless_writes_acknowledged"] ?? "") ?? 0 >= 50, "\(info)")
        #expect(UInt64(fields["leaderless_all_replicas_after_ack_ms_p99"] ?? "") != nil, "\(info)")
        #expect(fields["leaderless_pbs_read_sees_write_after_0ms"] != nil)

        // Per-connection quorums: with node 3 cut off, W ALL fails naming who answered, and
        // W ONE still succeeds; R back to the keyspace's with DEFAULT.
        cluster.isolate(2)
        #expect(try first.call("COHORT", "W", "ALL").text == "OK")
        let all = try first.call("SET", "quorum-key", "v")
        #expect(all.text?.hasPrefix("NOQUORUM 2 of 3") == true, "\(all)")
        #expect(try first.call("COHORT", "W", "ONE").text == "OK")
        #expect(try first.call("SET", "quorum-key", "w").text == "OK")
        #expect(try first.call("COHORT", "W", "DEFAULT").text == "OK")
        #expect(try first.call("COHORT", "R", "4").text?.contains("must be 1 to N") == true)
        cluster.healAll()

        // States survive a SIGKILL of the node that coordinated them.
        cluster.kill(0)
        try cluster.start(0)
        let restarted = try Self.client(cluster, 0, keyspace: "carts")
        #expect(try restarted.call("GET", "item-7").text == "v7")
    }
}
