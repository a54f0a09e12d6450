import CohortCore
import Foundation
import Testing

/// Hashes and sets in a 3-node single-leader cluster of real processes: element writes are
/// evaluated by the leader into element records, replicated, and read on every node; a
/// deleted and recreated collection never shows its old elements; failover keeps them.
@Suite(.serialized, .tags(.process, .cluster))
struct CollectionClusterProcessTests {
    static func members(_ reply: RESPValue) -> Set<String> {
        switch reply {
        case .array(let elements), .set(let elements):
            return Set(elements.compactMap { $0.text })
        default:
            return []
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func hashesAndSetsReplicateAndSurviveFailover() throws {
        let cluster = try TestCluster()
        defer { cluster.shutdown() }
        let leader = try #require(cluster.waitForLeader())
        let followers = (0..<3).filter { $0 != leader }
        // Writes through a follower are forwarded to the leader.
        let writer = try TestRESPClient(port: cluster.clientPorts[followers[0]])
        #expect(try writer.call("HSET", "cart", "apples", "3", "pears", "1") == .integer(2))
        #expect(try writer.call("HINCRBY", "cart", "apples", "2") == .integer(5))
        #expect(try writer.call("SADD", "tags", "red", "green", "blue") == .integer(3))
        #expect(try writer.call("SREM", "tags", "green") == .integer(1))
        #expect(try writer.call("RPUSH", "queue", "a", "b", "c") == .integer(3))
        #expect(try writer.call("LPOP", "queue").text == "a")
        for index in 0..<100 {
            #expect(
                try writer.call("HSET", "big", "field:\(index)", "value:\(index)") == .integer(1))
        }
        // Replaced, then created again: the old elements stay gone on every node.
        #expect(try writer.call("SADD", "old", "a", "b") == .integer(2))
        #expect(try writer.call("DEL", "old") == .integer(1))
        #expect(try writer.call("SADD", "old", "c") == .integer(1))
        #expect(try writer.call("GET", "cart").text?.hasPrefix("WRONGTYPE") == true)
        // The leader picks; its log entry names the member removed, so every node agrees.
        #expect(try writer.call("SADD", "pool", "a", "b", "c") == .integer(3))
        let popped = try #require(try writer.call("SPOP", "pool").text)
        let left = Set(["a", "b", "c"]).subtracting([popped])
        #expect(left.count == 2)
        #expect(try writer.call("WAIT", "2", "5000") == .integer(2))
        for node in 0..<3 {
            let reader = try TestRESPClient(port: cluster.clientPorts[node])
            #expect(try reader.call("HGET", "cart", "apples").text == "5", "node \(node)")
            #expect(try reader.call("HLEN", "big") == .integer(100), "node \(node)")
            #expect(try reader.call("HGET", "big", "field:42").text == "value:42")
            #expect(Self.members(try reader.call("SMEMBERS", "tags")) == ["red", "blue"])
            #expect(Self.members(try reader.call("SMEMBERS", "old")) == ["c"], "node \(node)")
            #expect(try reader.call("TYPE", "tags").text == "set")
            #expect(
                try reader.call("LRANGE", "queue", "0", "-1")
                    == .array([.bulkString(Array("b".utf8)), .bulkString(Array("c".utf8))]))
            #expect(Self.members(try reader.call("SMEMBERS", "pool")) == left, "node \(node)")
            #expect(try reader.call("DBSIZE") == .integer(6), "elements are not keys")
        }
        // The leader dies; the survivors elect one and keep every element.
        cluster.kill(leader)
        let newLeader = try #require(cluster.waitForLeader(among: followers))
        let survivor = try TestRESPClient(port: cluster.clientPorts[newLeader])
        #expect(try survivor.call("HLEN", "big") == .integer(100))
        #expect(try survivor.call("HSET", "cart", "plums", "7") == .integer(1))
        #expect(Self.members(try survivor.call("SMEMBERS", "old")) == ["c"])
        // The old leader comes back on its data and catches up.
        try cluster.start(leader)
        let rejoined = try TestRESPClient(port: cluster.clientPorts[leader])
        #expect(try survivor.call("WAIT", "2", "10000") == .integer(2))
        #expect(try rejoined.call("HGET", "cart", "plums").text == "7")
        #expect(try rejoined.call("HLEN", "big") == .integer(100))
    }

    /// MULTI/EXEC through followers: the queue runs on the leader as one log entry, and a
    /// WATCHed key written through another node aborts it.
    @Test(.timeLimit(.minutes(3)))
    func transactionsRunOnTheLeaderAsOneEntry() throws {
        let cluster = try TestCluster()
        defer { cluster.shutdown() }
        let leader = try #require(cluster.waitForLeader())
        let followers = (0..<3).filter { $0 != leader }
        let client = try TestRESPClient(port: cluster.clientPorts[followers[0]])
        let other = try TestRESPClient(port: cluster.clientPorts[followers[1]])
        #expect(try client.call("SET", "counter", "1").text == "OK")
        #expect(try client.call("MULTI").text == "OK")
        #expect(try client.call("INCR", "counter").text == "QUEUED")
        #expect(try client.call("HSET", "h", "f", "v").text == "QUEUED")
        #expect(try client.call("GET", "counter").text == "QUEUED")
        #expect(
            try client.call("EXEC")
                == .array([.integer(2), .integer(1), .bulkString(Array("2".utf8))]))
        #expect(try other.call("HGET", "h", "f").text == "v")
        // Pipelined, as client libraries send it.
        try client.send(
            raw: TestRESPClient.encode(["MULTI"]) + TestRESPClient.encode(["INCR", "counter"])
                + TestRESPClient.encode(["SADD", "s", "m"]) + TestRESPClient.encode(["EXEC"]))
        #expect(try client.readReply().text == "OK")
        #expect(try client.readReply().text == "QUEUED")
        #expect(try client.readReply().text == "QUEUED")
        #expect(try client.readReply() == .array([.integer(3), .integer(1)]))
        // WATCH on one follower, a write through the other: EXEC runs nothing.
        #expect(try client.call("WATCH", "counter").text == "OK")
        #expect(try other.call("INCR", "counter") == .integer(4))
        // The watching node may not have applied the write yet; WATCH is optimistic either
        // way: the leader compares versions when it evaluates the queue.
        #expect(try client.call("MULTI").text == "OK")
        #expect(try client.call("SET", "counter", "100").text == "QUEUED")
        #expect(try client.call("EXEC") == .nullArray)
        #expect(try other.call("GET", "counter").text == "4")
        // Queuing errors are answered on the follower.
        #expect(try client.call("MULTI").text == "OK")
        #expect(try client.call("SET", "x").text?.hasPrefix("ERR wrong number") == true)
        #expect(try client.call("EXEC").text?.hasPrefix("EXECABORT") == true)
        #expect(try client.call("EXEC").text == "ERR EXEC without MULTI")
    }
}
