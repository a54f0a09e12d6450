import CohortCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Keyspaces with their own replication groups, with real processes: created online, isolated
/// from the default keyspace, failing over on their own members (with a witness breaking the
/// tie), and restarted from the saved catalog.
@Suite(.serialized, .tags(.process, .cluster))
struct KeyspaceProcessTests {
    /// A connection whose commands address `keyspace`; nil while this node cannot serve it.
    static func client(port: Int, keyspace: String) -> TestRESPClient? {
        guard let client = try? TestRESPClient(port: port, timeoutSeconds: 3),
            (try? client.call("COHORT", "USE", keyspace))?.text == "OK"
        else { return nil }
        return client
    }

    /// Polls until `COHORT USE keyspace` succeeds on `port`.
    static func waitForKeyspace(port: Int, keyspace: String, seconds: Double = 15) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if client(port: port, keyspace: keyspace) != nil { return true }
            usleep(100_000)
        }
        return false
    }

    /// `INFO replication` of `keyspace`'s group on `port`.
    static func info(port: Int, keyspace: String) -> [String: String] {
        TestCluster.replicationInfo(port: port, keyspace: keyspace) ?? [:]
    }

    /// Retries a SET in `keyspace` through `port` until OK or `seconds` pass.
    static func set(
        port: Int, keyspace: String, _ key: String, _ value: String, seconds: Double = 15
    ) -> Bool {
        ClusterProcessTests.setWithRetry(
            port: port, keyspace: keyspace, key: key, value: value, seconds: seconds)
    }

    @Test(.timeLimit(.minutes(2)))
    func keyspaceWithWitnessIsIsolatedFailsOverAndSurvivesRestart() throws {
        let cluster = try TestCluster()
        defer { cluster.shutdown() }
        _ = try #require(cluster.waitForLeader())
        let admin = try TestRESPClient(port: cluster.clientPorts[2])
        // Created through a follower or the leader alike; bad definitions are refused.
        #expect(
            try admin.call(
                "COHORT", "KEYSPACE", "CREATE", "orders", "VOTERS", "n1,n2", "WITNESS", "n3",
                "ACK", "majority"
            ).text == "OK")
        // `all` would wait for the dead voter below: give it to another keyspace.
        #expect(
            try admin.call("COHORT", "KEYSPACE", "CREATE", "audit", "ACK", "ALL").text == "OK")
        #expect(
            try admin.call("COHORT", "KEYSPACE", "CREATE", "orders").text?.contains(
                "already exists") == true)
        #expect(
            try admin.call("COHORT", "KEYSPACE", "CREATE", "x", "VOTERS", "n1,n9").text?
                .contains("n9") == true)
        #expect(
            try admin.call("COHORT", "KEYSPACE", "CREATE", "default").text?.hasPrefix("ERR")
                == true)
        #expect(
            try admin.call("COHORT", "USE", "nope").text?.contains("no such keyspace") == true)
        for port in cluster.clientPorts {
            #expect(Self.waitForKeyspace(port: port, keyspace: "orders"), "port \(port)")
        }

        // Writes through every member, the witness included (it forwards).
        var acknowledged: [String: String] = [:]
        for round in 0..<30 {
            let port = cluster.clientPorts[round % 3]
            let key = "order-\(round)"
            if Self.set(port: port, keyspace: "orders", key, "v\(round)") {
                acknowledged[key] = "v\(round)"
            }
        }
        #expect(acknowledged.count == 30)
        // The witness holds no data: its clients' reads are proxied to a data member.
        let viaWitness = try #require(Self.client(port: cluster.clientPorts[2], keyspace: "orders"))
        #expect(try viaWitness.call("GET", "order-0").text == "v0")
        #expect(Self.info(port: cluster.clientPorts[2], keyspace: "orders")["role"] == "follower")
        // The default keyspace does not see them; the keyspace's own status says ack=all.
        let plain = try TestRESPClient(port: cluster.clientPorts[0])
        #expect(try plain.call("GET", "order-0") == .null)
        #expect(try plain.call("EXISTS", "order-0") == .integer(0))
        let ordersInfo = Self.info(port: cluster.clientPorts[0], keyspace: "orders")
        #expect(ordersInfo["cohort_keyspace"] == "orders")
        #expect(ordersInfo["cohort_default_ack"] == "majority")
        #expect(
            Self.info(port: cluster.clientPorts[1], keyspace: "audit")["cohort_default_ack"]
                == "all")
        #expect(
            Self.info(port: cluster.clientPorts[1], keyspace: "audit")["cohort_voters"]
                == "n1,n2,n3")
        #expect(ordersInfo["cohort_witnesses"] == "n3")
        #expect(ordersInfo["cohort_voters"] == "n1,n2")

        // The admin API shows every keyspace group on the node.
        let metrics = try #require(
            HTTPTestClient.get(port: cluster.adminPorts[0], path: "/metrics"))
        #expect(metrics.body.contains("cohort_raft_role{keyspace=\"orders\",role="))
        #expect(metrics.body.contains("cohort_raft_commit_index{keyspace=\"audit\"}"))
        #expect(metrics.body.contains("cohort_keys{keyspace=\"orders\"} 30"))
        let status = try #require(HTTPTestClient.get(port: cluster.adminPorts[0], path: "/status"))
        #expect(status.body.contains("\"keyspaces\":{\"audit\":{"))
        #expect(status.body.contains("\"cohort_keyspace\":\"orders\""))

        // Kill the keyspace's leader: the other voter wins with the witness's vote.
        let leaderName = try #require(
            Self.info(port: cluster.clientPorts[0], keyspace: "orders")["cohort_leader"])
        let leader = try #require(cluster.names.firstIndex(of: leaderName))
        #expect(leader != 2, "a witness never leads")
        let survivor = leader == 0 ? 1 : 0
        cluster.kill(leader)
        #expect(
            Self.set(port: cluster.clientPorts[survivor], keyspace: "orders", "after", "kill"),
            "no write succeeded in orders after its leader was killed")
        acknowledged["after"] = "kill"
        let reader = try #require(
            Self.client(port: cluster.clientPorts[survivor], keyspace: "orders"))
        for (key, value) in acknowledged {
            #expect(try reader.call("GET", key).text == value, "lost \(key)")
        }

        // The killed node restarts its keyspace group from the saved catalog and catches up.
        try cluster.start(leader)
        #expect(Self.waitForKeyspace(port: cluster.clientPorts[leader], keyspace: "orders"))
        let deadline = Date().addingTimeInterval(20)
        var caughtUp = false
        while Date() < deadline && !caughtUp {
            if let client = Self.client(port: cluster.clientPorts[leader], keyspace: "orders"),
                (try? client.call("COHORT", "CONSISTENCY", "any"))?.text == "OK",
                (try? client.call("GET", "after"))?.text == "kill"
            {
                caughtUp = true
            }
            usleep(100_000)
        }
        #expect(caughtUp, "the restarted member never caught up in orders")
        let list = try admin.call("COHORT", "KEYSPACE", "LIST")
        guard case .array(let lines) = list else {
            Issue.record("KEYSPACE LIST answered \(list)")
            return
        }
        // A member of a keyspace cannot leave the cluster while the keyspace names it.
        #expect(
            try admin.call("COHORT", "NODE", "REMOVE", "n2").text?.contains("orders") == true)
        // A node added later learns the catalog from the snapshot it is seeded from (the log
        // entries that defined the keyspaces were compacted into it) and holds none of them.
        let joinerPort = ServerProcess.freePort()
        let joiner = try ServerProcess(
            dataDirectory: cluster.directory.path + "/n4",
            extraArguments: [
                "--id", "n4", "--peer-port", "\(joinerPort)", "--peers",
                cluster.peersArgument(for: 0) + ",n4=127.0.0.1:\(joinerPort)", "--join",
            ])
        defer { joiner.stop() }
        #expect(
            try admin.call("COHORT", "NODE", "ADD", "n4", "127.0.0.1:\(joinerPort)", "LEARNER")
                .text?.hasPrefix("OK") == true)
        let joinDeadline = Date().addingTimeInterval(20)
        var joinerLines: [String] = []
        while Date() < joinDeadline && joinerLines.count < 2 {
            if let client = try? TestRESPClient(port: joiner.port, timeoutSeconds: 3),
                case .array(let values) = try client.call("COHORT", "KEYSPACE", "LIST")
            {
                joinerLines = values.compactMap(\.text)
            }
            usleep(100_000)
        }
        #expect(
            joinerLines == [
                "audit ack=all voters=n1,n2,n3 here=no",
                "orders ack=majority voters=n1,n2 witnesses=n3 here=no",
            ])
        // n4 does not replicate orders but serves it: its clients' commands are proxied to
        // a member, with the session's token carried both ways.
        let outsider = try TestRESPClient(port: joiner.port)
        #expect(try outsider.call("COHORT", "USE", "orders").text == "OK")
        #expect(try outsider.call("GET", "after").text == "kill")
        #expect(try outsider.call("SET", "from-n4", "proxied").text == "OK")
        let proxiedToken = try outsider.call("COHORT", "TOKEN")
        guard case .integer(let token) = proxiedToken, token > 0 else {
            Issue.record("no session token after a proxied write: \(proxiedToken)")
            return
        }
        #expect(try outsider.call("INCR", "counter-n4") == .integer(1))
        #expect(try outsider.call("COHORT", "CONSISTENCY", "session").text == "OK")
        #expect(try outsider.call("GET", "from-n4").text == "proxied")
        #expect(try outsider.call("COHORT", "USE", "default").text == "OK")
        #expect(try outsider.call("GET", "from-n4") == .null)
        let member = try #require(Self.client(port: cluster.clientPorts[0], keyspace: "orders"))
        #expect(try member.call("GET", "from-n4").text == "proxied")
        let joinerLog = (try? String(contentsOfFile: joiner.logPath, encoding: .utf8)) ?? ""
        #expect(joinerLog.contains("installed snapshot"))
        #expect(
            lines.compactMap(\.text) == [
                "audit ack=all voters=n1,n2,n3 here=yes",
                "orders ack=majority voters=n1,n2 witnesses=n3 here=yes",
            ])
    }

    /// Members change online: a node added to a keyspace is brought in by the group's leader
    /// and catches up; a removed node stops its copy and serves the keyspace by proxy.
    @Test(.timeLimit(.minutes(2)))
    func keyspaceMembersChangeOnline() throws {
        let cluster = try TestCluster()
        defer { cluster.shutdown() }
        _ = try #require(cluster.waitForLeader())
        let admin = try TestRESPClient(port: cluster.clientPorts[0])
        #expect(
            try admin.call("COHORT", "KEYSPACE", "CREATE", "carts", "VOTERS", "n1,n2").text
                == "OK")
        #expect(Self.waitForKeyspace(port: cluster.clientPorts[0], keyspace: "carts"))
        for index in 0..<50 {
            #expect(
                Self.set(
                    port: cluster.clientPorts[index % 2], keyspace: "carts", "c\(index)",
                    "v\(index)"))
        }
        #expect(
            try admin.call("COHORT", "KEYSPACE", "ADD", "carts", "n3").text == "OK")
        #expect(
            try admin.call("COHORT", "KEYSPACE", "ADD", "carts", "n3").text?.contains(
                "already") == true)
        #expect(
            try admin.call("COHORT", "KEYSPACE", "ADD", "carts", "n9").text?.contains(
                "not a member") == true)
        // n3 starts its copy, is added as a learner, catches up and is promoted.
        func voters(_ index: Int) -> String? {
            Self.info(port: cluster.clientPorts[index], keyspace: "carts")["cohort_voters"]
        }
        var deadline = Date().addingTimeInterval(30)
        while Date() < deadline && voters(0) != "n1,n2,n3" { usleep(100_000) }
        #expect(voters(0) == "n1,n2,n3")
        deadline = Date().addingTimeInterval(20)
        var caughtUp = false
        while Date() < deadline && !caughtUp {
            if let client = Self.client(port: cluster.clientPorts[2], keyspace: "carts"),
                (try? client.call("COHORT", "CONSISTENCY", "any"))?.text == "OK",
                (try? client.call("GET", "c49"))?.text == "v49",
                (try? client.call("DBSIZE")) == .integer(50)
            {
                caughtUp = true
            }
            usleep(100_000)
        }
        #expect(caughtUp, "n3 never caught up in carts")
        let listed = try TestRESPClient(port: cluster.clientPorts[2]).call(
            "COHORT", "KEYSPACE", "LIST")
        #expect(
            listed
                == .array([.bulkString(Array("carts ack=majority voters=n1,n2,n3 here=yes".utf8))]))

        // Remove n1: the group shrinks to n2,n3, n1 stops its copy and proxies instead.
        let stale = try #require(Self.client(port: cluster.clientPorts[0], keyspace: "carts"))
        #expect(try admin.call("COHORT", "KEYSPACE", "REMOVE", "carts", "n1").text == "OK")
        deadline = Date().addingTimeInterval(30)
        while Date() < deadline && voters(1) != "n2,n3" { usleep(100_000) }
        #expect(voters(1) == "n2,n3")
        // A connection that used n1's own copy is told so (never left hanging), and works
        // again by proxy once it switches anew.
        let staleDeadline = Date().addingTimeInterval(10)
        var told = false
        while !told && Date() < staleDeadline {
            if case .error(let message) = try stale.call("GET", "c1"),
                message.contains("COHORT USE")
            {
                told = true
            }
            usleep(100_000)
        }
        #expect(told)
        #expect(try stale.call("COHORT", "USE", "carts").text == "OK")
        #expect(try stale.call("GET", "c1").text == "v1")
        #expect(Self.set(port: cluster.clientPorts[0], keyspace: "carts", "after", "remove"))
        let reader = try #require(Self.client(port: cluster.clientPorts[0], keyspace: "carts"))
        #expect(try reader.call("GET", "after").text == "remove")
        #expect(try reader.call("GET", "c0").text == "v0")
        // n1's status shows what it proxied, and that it no longer runs carts' group.
        // (The shell's fields are copied every tick, 100 ms.)
        let sent = cluster.waitForField(0, "proxy_requests_sent", seconds: 5) {
            (Int($0) ?? 0) >= 3
        }
        #expect((Int(sent ?? "") ?? 0) >= 3, "proxy_requests_sent \(sent ?? "-")")
        #expect(cluster.replicationInfo(0)?["keyspace_groups_here"] == "")
        let n1List = try admin.call("COHORT", "KEYSPACE", "LIST")
        #expect(
            n1List == .array([.bulkString(Array("carts ack=majority voters=n2,n3 here=no".utf8))]))
        // n3 alone is still a valid keyspace.
        #expect(try admin.call("COHORT", "KEYSPACE", "REMOVE", "carts", "n2").text == "OK")
        deadline = Date().addingTimeInterval(30)
        while Date() < deadline && voters(2) != "n3" { usleep(100_000) }
        #expect(voters(2) == "n3")
    }

    /// Checked histories inside keyspaces: clients on every node (the witness forwards, a
    /// non-member proxies) while the keyspace's leader is killed and restarted.
    @Test(.timeLimit(.minutes(3)), arguments: ["witness", "proxy"])
    func historyInKeyspaceUnderLeaderKillIsLinearizable(layout: String) throws {
        let cluster = try TestCluster()
        defer { cluster.shutdown() }
        _ = try #require(cluster.waitForLeader())
        let admin = try TestRESPClient(port: cluster.clientPorts[0])
        // witness: n1, n2 and witness n3 fail over on their own. proxy: n1 and n2 only, so
        // the keyspace stalls until the killed node returns, and n3 proxies throughout.
        let members =
            layout == "witness" ? ["VOTERS", "n1,n2", "WITNESS", "n3"] : ["VOTERS", "n1,n2"]
        let create = try admin.call(
            "COHORT", "KEYSPACE", "CREATE", "ks", members[0], members[1],
            layout == "witness" ? members[2] : "ACK", layout == "witness" ? members[3] : "majority")
        #expect(create.text == "OK")
        try ClusterWorkload.runChecked(on: cluster, ackMode: "majority", keyspace: "ks") {
            leader in
            cluster.kill(leader)
            usleep(3_000_000)
            try cluster.start(leader)
        }
    }

    /// A proxied linearizable read never returns what a cut-off member still holds: n4
    /// proxies reads round the members n1, n2, n3; one follower is cut off from the other
    /// two (n4 still reaches it) when a new value is written; every read through n4 returns
    /// the new value or an error, never the old one. (A member that answered proxied reads
    /// without asking its leader fails this at once.)
    @Test(.timeLimit(.minutes(2)))
    func proxiedReadsStayLinearizableWhenAMemberIsCutOff() throws {
        let cluster = try TestCluster(
            size: 4, proxied: true, extraArguments: ["--read-timeout-ms", "1500"])
        defer { cluster.shutdown() }
        _ = try #require(cluster.waitForLeader())
        let admin = try TestRESPClient(port: cluster.clientPorts[0])
        #expect(
            try admin.call("COHORT", "KEYSPACE", "CREATE", "ks", "VOTERS", "n1,n2,n3").text
                == "OK")
        #expect(Self.set(port: cluster.clientPorts[0], keyspace: "ks", "k", "old"))
        // Every member has the old value before the cut.
        for index in 0..<3 {
            let deadline = Date().addingTimeInterval(10)
            var seen = false
            while !seen && Date() < deadline {
                if let client = Self.client(port: cluster.clientPorts[index], keyspace: "ks"),
                    (try? client.call("COHORT", "CONSISTENCY", "any"))?.text == "OK",
                    (try? client.call("GET", "k"))?.text == "old"
                {
                    seen = true
                }
                usleep(50_000)
            }
            #expect(seen, "n\(index + 1) never applied the old value")
        }
        // Cut one follower of ks off from the other two members.
        let leader = try #require(cluster.waitForLeader(among: [0, 1, 2], keyspace: "ks"))
        let cutOff = [0, 1, 2].first { $0 != leader }!
        for other in [0, 1, 2] where other != cutOff { cluster.cut(cutOff, other) }
        #expect(Self.set(port: cluster.clientPorts[leader], keyspace: "ks", "k", "new"))
        let outsider = try TestRESPClient(port: cluster.clientPorts[3], timeoutSeconds: 10)
        #expect(try outsider.call("COHORT", "USE", "ks").text == "OK")
        var answered = 0
        var refused = 0
        for _ in 0..<6 {
            let reply = try outsider.call("GET", "k")
            #expect(reply.text != "old", "a proxied linearizable read returned a stale value")
            if reply.text == "new" { answered += 1 }
            if case .error = reply { refused += 1 }
        }
        // Six reads go round three members: the two that reach the cut-off one are refused.
        #expect(answered >= 4, "the reachable members should answer")
        #expect(refused >= 1, "no read reached the cut-off member, so the test proved nothing")
    }
}
