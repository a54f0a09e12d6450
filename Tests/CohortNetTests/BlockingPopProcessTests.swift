import CohortCore
import Foundation
import Synchronization
import Testing

/// BLPOP and its kin on real servers: a client blocks until a push (through any connection,
/// or through replication on a follower) gives it an element, or until its timeout answers
/// null; nothing it waits behind runs meanwhile; no element is lost or given twice.
@Suite(.serialized, .tags(.process))
struct BlockingPopProcessTests {
    static func item(_ key: String, _ value: String) -> RESPValue {
        .array([.bulkString(Array(key.utf8)), .bulkString(Array(value.utf8))])
    }

    /// Waits (bounded) until `port` reports `count` blocked clients in INFO clients.
    static func waitForBlockedClients(_ count: Int, port: Int) throws {
        let probe = try TestRESPClient(port: port)
        for _ in 0..<500 {
            let info = try probe.call("INFO", "clients").text ?? ""
            if info.contains("blocked_clients:\(count)\r") { return }
            usleep(10_000)
        }
        Issue.record("never saw \(count) blocked clients on port \(port)")
    }

    @Test(.timeLimit(.minutes(2)))
    func aSingleNodeWakesBlockedClientsAndTimesOut() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let server = try ServerProcess(dataDirectory: directory.path + "/data")
        let port = server.port
        let writer = try TestRESPClient(port: port)
        #expect(try writer.call("PING") == .simpleString("PONG"))

        // A timeout answers the null array, and not before the timeout.
        let started = Date()
        #expect(try writer.call("BLPOP", "empty", "0.3") == .nullArray)
        #expect(Date().timeIntervalSince(started) >= 0.25)

        // A blocked client, with a PING pipelined behind it: the PING waits too.
        let waiter = try TestRESPClient(port: port)
        try waiter.send(
            raw: TestRESPClient.encode(["BLPOP", "jobs", "0"]) + TestRESPClient.encode(["PING"]))
        try Self.waitForBlockedClients(1, port: port)
        #expect(try writer.call("RPUSH", "jobs", "first", "second") == .integer(2))
        #expect(try waiter.readReply() == Self.item("jobs", "first"))
        #expect(try waiter.readReply() == .simpleString("PONG"))
        #expect(
            try writer.call("LRANGE", "jobs", "0", "-1")
                == .array([.bulkString(Array("second".utf8))]))

        // Several clients blocked on one list, more pushes than clients: every element goes
        // to exactly one client or stays in the list.
        let clients = try (0..<4).map { _ in try TestRESPClient(port: port) }
        #expect(try writer.call("DEL", "jobs") == .integer(1))
        for client in clients { try client.send(["BRPOP", "work", "other", "10"]) }
        try Self.waitForBlockedClients(4, port: port)
        for index in 0..<6 {
            guard case .integer = try writer.call("LPUSH", "work", "job\(index)") else {
                Issue.record("LPUSH failed")
                return
            }
        }
        var received: [String] = []
        for client in clients {
            guard case .array(let pair) = try client.readReply(), pair.count == 2 else {
                Issue.record("a blocked client got no element")
                continue
            }
            #expect(pair[0].text == "work")
            received.append(pair[1].text ?? "")
        }
        guard case .array(let left) = try writer.call("LRANGE", "work", "0", "-1") else {
            Issue.record("LRANGE failed")
            return
        }
        let all = received + left.compactMap(\.text)
        #expect(all.sorted() == (0..<6).map { "job\($0)" }.sorted(), "\(received) + \(left)")

        // BLMOVE and BZPOPMIN wake the same way.
        let mover = try TestRESPClient(port: port)
        try mover.send(["BLMOVE", "src", "dst", "RIGHT", "LEFT", "5"])
        let zwaiter = try TestRESPClient(port: port)
        try zwaiter.send(["BZPOPMIN", "scores", "5"])
        try Self.waitForBlockedClients(2, port: port)
        #expect(try writer.call("RPUSH", "src", "a", "b") == .integer(2))
        #expect(try mover.readReply().text == "b")
        #expect(try writer.call("ZADD", "scores", "7", "seven") == .integer(1))
        #expect(
            try zwaiter.readReply()
                == .array([
                    .bulkString(Array("scores".utf8)), .bulkString(Array("seven".utf8)),
                    .bulkString(Array("7".utf8)),
                ]))
        #expect(
            try writer.call("LRANGE", "dst", "0", "-1") == .array([.bulkString(Array("b".utf8))]))

        // A client that goes away while blocked takes nothing with it.
        do {
            let leaving = try TestRESPClient(port: port)
            try leaving.send(["BLPOP", "lonely", "0"])
            try Self.waitForBlockedClients(1, port: port)
        }
        try Self.waitForBlockedClients(0, port: port)
        #expect(try writer.call("RPUSH", "lonely", "x") == .integer(1))
        #expect(try writer.call("LLEN", "lonely") == .integer(1))
    }

    @Test(.timeLimit(.minutes(3)))
    func aFollowersClientIsWokenByAReplicatedPush() throws {
        let cluster = try TestCluster()
        defer { cluster.shutdown() }
        let leader = try #require(cluster.waitForLeader())
        let followers = (0..<3).filter { $0 != leader }
        let writer = try TestRESPClient(port: cluster.clientPorts[followers[1]])
        #expect(try writer.call("SET", "warmup", "1") == .simpleString("OK"))

        // A timeout on a follower answers null.
        let waiter = try TestRESPClient(port: cluster.clientPorts[followers[0]], timeoutSeconds: 20)
        #expect(try waiter.call("BLPOP", "q", "0.2") == .nullArray)

        // Blocked on one follower, pushed through the other: the push reaches the waiter's
        // node by replication, wakes it, and its pop goes through the leader.
        try waiter.send(["BLPOP", "q", "15"])
        try Self.waitForBlockedClients(1, port: cluster.clientPorts[followers[0]])
        #expect(try writer.call("RPUSH", "q", "hello", "world") == .integer(2))
        #expect(try waiter.readReply() == Self.item("q", "hello"))
        // Pushed through the leader itself, with the waiter on the leader.
        let onLeader = try TestRESPClient(port: cluster.clientPorts[leader], timeoutSeconds: 20)
        try onLeader.send(["BRPOP", "q2", "15"])
        try Self.waitForBlockedClients(1, port: cluster.clientPorts[leader])
        #expect(try writer.call("LPUSH", "q2", "x") == .integer(1))
        #expect(try onLeader.readReply() == Self.item("q2", "x"))
        // Every node agrees on what was popped.
        #expect(try writer.call("WAIT", "2", "5000") == .integer(2))
        for node in 0..<3 {
            let reader = try TestRESPClient(port: cluster.clientPorts[node])
            #expect(
                try reader.call("LRANGE", "q", "0", "-1")
                    == .array([.bulkString(Array("world".utf8))]), "node \(node)")
            #expect(try reader.call("EXISTS", "q2") == .integer(0), "node \(node)")
        }
    }
}
