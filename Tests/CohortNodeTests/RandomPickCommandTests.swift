import CohortCore
import CohortNode
import CohortStorage
import Foundation
import Testing

private func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

/// SRANDMEMBER, SPOP and HRANDFIELD: what Redis answers, and picks that a seed replays.
@Suite struct RandomPickCommandTests {
    func texts(_ reply: RESPValue) -> [String] {
        switch reply {
        case .array(let items), .set(let items): return items.compactMap(\.text)
        default: return []
        }
    }

    @Test func picksComeFromTheCollectionAsRedisCountsThem() throws {
        let h = try ExecutorHarness()
        let members = (0..<10).map { "m\($0)" }
        h.run(["SADD", "s"] + members)
        #expect(members.contains(h.run("SRANDMEMBER", "s").text ?? "none"))
        let three = texts(h.run("SRANDMEMBER", "s", "3"))
        #expect(three.count == 3 && Set(three).count == 3 && Set(three).isSubset(of: members))
        #expect(Set(texts(h.run("SRANDMEMBER", "s", "50"))) == Set(members))
        let repeated = texts(h.run("SRANDMEMBER", "s", "-25"))
        #expect(repeated.count == 25 && Set(repeated).isSubset(of: members))
        #expect(h.run("SRANDMEMBER", "s", "0") == .array([]))
        #expect(h.run("SRANDMEMBER", "nokey") == .null)
        #expect(h.run("SRANDMEMBER", "nokey", "2") == .array([]))
        #expect(h.run("SCARD", "s") == .integer(10), "SRANDMEMBER removes nothing")
        // SPOP removes what it picks.
        let popped = h.run("SPOP", "s").text ?? "none"
        #expect(members.contains(popped))
        #expect(h.run("SISMEMBER", "s", popped) == .integer(0))
        let four = texts(h.run("SPOP", "s", "4"))
        #expect(Set(four).count == 4 && !four.contains(popped))
        #expect(h.run("SCARD", "s") == .integer(5))
        #expect(Set(texts(h.run("SPOP", "s", "100"))).count == 5)
        #expect(h.run("EXISTS", "s") == .integer(0))
        #expect(h.run("SPOP", "s") == .null)
        #expect(h.run("SPOP", "s", "-1") == .error("ERR value is out of range, must be positive"))
        // HRANDFIELD, with values in pairs that belong together.
        h.run("HSET", "h", "a", "1", "b", "2", "c", "3")
        #expect(["a", "b", "c"].contains(h.run("HRANDFIELD", "h").text ?? "none"))
        let pairs = texts(h.run("HRANDFIELD", "h", "-6", "WITHVALUES"))
        #expect(pairs.count == 12)
        for index in stride(from: 0, to: pairs.count, by: 2) {
            #expect(["a": "1", "b": "2", "c": "3"][pairs[index]] == pairs[index + 1])
        }
        #expect(Set(texts(h.run("HRANDFIELD", "h", "5"))) == ["a", "b", "c"])
        #expect(h.run("HRANDFIELD", "nokey") == .null)
        #expect(h.run("HRANDFIELD", "h", "1", "BOGUS") == .error("ERR syntax error"))
        h.run("SET", "str", "v")
        #expect(h.run("SPOP", "str").isError)
        #expect(h.run("HRANDFIELD", "str").isError)
    }

    /// Two executors of the same node name and start time pick the same: the simulator's
    /// replay of a seed depends on it.
    @Test func theSameSeedPicksTheSame() throws {
        func picks() throws -> [RESPValue] {
            let h = try ExecutorHarness()
            h.run(["SADD", "s"] + (0..<50).map { "m\($0)" })
            return (0..<10).map { _ in h.run("SRANDMEMBER", "s", "3") }
        }
        let first = try picks()
        #expect(first == (try picks()))
        #expect(Set(first.map { "\($0)" }).count > 1, "the picks vary from call to call")
    }
}

/// Picks from big collections draw from the index (O(log n) each): they still take each
/// member once, see the transaction's own writes, and follow Redis's counts.
@Suite struct SampledPickCommandTests {
    func texts(_ reply: RESPValue) -> [String] {
        switch reply {
        case .array(let items), .set(let items): return items.compactMap(\.text)
        default: return []
        }
    }

    @Test func spopEmptiesABigSetTakingEveryMemberOnce() throws {
        let h = try ExecutorHarness()
        let members = (0..<500).map { "m\($0)" }
        #expect(h.run(["SADD", "big"] + members) == .integer(500))
        var popped: [String] = []
        while case .bulkString(let bytes) = h.run("SPOP", "big") {
            popped.append(String(decoding: bytes, as: UTF8.self))
        }
        #expect(popped.count == 500)
        #expect(Set(popped) == Set(members))
        #expect(h.run("EXISTS", "big") == .integer(0))
        // Not just the first few in key order: the first pops are spread over the set.
        #expect(Set(popped.prefix(50)).count == 50)
        #expect(popped.prefix(50).contains { $0 > "m5" })
    }

    @Test func countsAndPendingWritesAreRespected() throws {
        let h = try ExecutorHarness()
        let fields = (0..<300).flatMap { ["f\($0)", "v\($0)"] }
        #expect(h.run(["HSET", "h"] + fields) == .integer(300))
        let distinct = texts(h.run("HRANDFIELD", "h", "20"))
        #expect(distinct.count == 20 && Set(distinct).count == 20)
        let repeated = texts(h.run("HRANDFIELD", "h", "-40", "WITHVALUES"))
        #expect(repeated.count == 80)
        for pair in stride(from: 0, to: 80, by: 2) {
            #expect("v" + repeated[pair].dropFirst() == repeated[pair + 1])
        }
        h.run(["SADD", "s"] + (0..<200).map { "m\($0)" })
        #expect(Set(texts(h.run("SRANDMEMBER", "s", "10"))).count == 10)
        #expect(texts(h.run("SRANDMEMBER", "s", "-500")).count == 500)
        // Inside EXEC the pops see the members removed before them.
        h.run("MULTI")
        for number in 0..<199 { h.run("SREM", "s", "m\(number)") }
        h.run("SPOP", "s")
        let replies = h.run("EXEC")
        guard case .array(let results) = replies else {
            Issue.record("EXEC failed: \(replies)")
            return
        }
        #expect(results.last == .bulkString(Array("m199".utf8)))
        #expect(h.run("EXISTS", "s") == .integer(0))
    }
}
