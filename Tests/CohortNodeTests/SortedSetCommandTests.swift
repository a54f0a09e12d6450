import CohortCore
import CohortNode
import CohortStorage
import Foundation
import Testing

private func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }
private func bulks(_ texts: String...) -> RESPValue { .array(texts.map(bulk)) }

/// A reply as a RESP2 client reads it: scores (doubles) arrive as bulk strings.
private func resp2(_ reply: RESPValue) -> RESPValue {
    switch reply {
    case .double(let score): return bulk(RESPEncoder.doubleText(score))
    case .array(let elements): return .array(elements.map(resp2))
    default: return reply
    }
}

extension ExecutorHarness {
    /// `run`, with the reply as a RESP2 client reads it.
    @discardableResult
    fileprivate func run2(_ arguments: String...) -> RESPValue { resp2(run(arguments)) }

    fileprivate func run2(_ arguments: [String]) -> RESPValue { resp2(run(arguments)) }
}

/// Sorted-set commands: Redis's replies and errors, the score layout, and random sequences
/// against a model.
@Suite struct SortedSetCommandTests {
    @Test func scoreBytesSortAsTheNumbersDo() {
        let scores: [Double] = [
            -.infinity, -1e300, -2.5, -1, -Double.leastNonzeroMagnitude, 0, 1e-300, 0.5, 1, 2.5,
            1e300, .infinity,
        ]
        let encoded = scores.map(SortedSetElement.scoreBytes)
        for (lower, higher) in zip(encoded, encoded.dropFirst()) {
            #expect(lower.lexicographicallyPrecedes(higher))
        }
        for score in scores {
            #expect(SortedSetElement.score(SortedSetElement.scoreBytes(score)) == score)
        }
        #expect(SortedSetElement.scoreBytes(-0.0) == SortedSetElement.scoreBytes(0))
    }

    @Test func sortedSetCommandsAnswerAsRedisDoes() throws {
        let h = try ExecutorHarness()
        #expect(h.run2("ZADD", "z", "1", "a", "2", "b", "3", "c") == .integer(3))
        #expect(h.run2("ZADD", "z", "1.5", "a", "4", "d") == .integer(1))
        #expect(h.run2("ZADD", "z", "CH", "5", "a", "4", "d") == .integer(1))
        #expect(h.run2("ZADD", "z", "NX", "9", "a", "0", "e") == .integer(1))
        #expect(h.run2("ZADD", "z", "XX", "9", "nope") == .integer(0))
        #expect(h.run2("ZADD", "z", "GT", "CH", "1", "a", "6", "d") == .integer(1))
        #expect(h.run2("ZADD", "z", "INCR", "2", "b") == bulk("4"))
        #expect(h.run2("ZADD", "z", "NX", "INCR", "2", "b") == .null)
        #expect(h.run2("ZADD", "z", "NX", "XX", "1", "a").isError)
        #expect(h.run2("ZADD", "z", "GT", "LT", "1", "a").isError)
        #expect(h.run2("ZADD", "z", "INCR", "1", "a", "2", "b").isError)
        #expect(h.run2("ZADD", "z", "x", "a") == .error("ERR value is not a valid float"))
        #expect(h.run2("ZADD", "z", "1", "a", "2") == .error("ERR syntax error"))
        // e 0, c 3, b 4, a 5, d 6
        #expect(h.run2("ZCARD", "z") == .integer(5))
        #expect(h.run2("ZSCORE", "z", "a") == bulk("5"))
        #expect(h.run2("ZSCORE", "z", "nope") == .null)
        #expect(h.run2("ZMSCORE", "z", "e", "nope") == .array([bulk("0"), .null]))
        #expect(h.run2("ZINCRBY", "z", "0.5", "e") == bulk("0.5"))
        #expect(h.run2("ZRANGE", "z", "0", "-1") == bulks("e", "c", "b", "a", "d"))
        #expect(
            h.run2("ZRANGE", "z", "0", "1", "WITHSCORES") == bulks("e", "0.5", "c", "3"))
        #expect(h.run2("ZRANGE", "z", "0", "1", "REV") == bulks("d", "a"))
        #expect(h.run2("ZRANGE", "z", "(3", "5", "BYSCORE") == bulks("b", "a"))
        #expect(h.run2("ZRANGE", "z", "5", "(3", "BYSCORE", "REV") == bulks("a", "b"))
        #expect(
            h.run2("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2") == bulks("c", "b"))
        #expect(h.run2("ZRANGEBYSCORE", "z", "3", "4") == bulks("c", "b"))
        #expect(
            h.run2("ZREVRANGEBYSCORE", "z", "+inf", "4", "WITHSCORES")
                == bulks("d", "6", "a", "5", "b", "4"))
        #expect(h.run2("ZRANGEBYSCORE", "z", "x", "4") == .error("ERR min or max is not a float"))
        #expect(h.run2("ZCOUNT", "z", "(0.5", "5") == .integer(3))
        #expect(h.run2("ZRANK", "z", "b") == .integer(2))
        #expect(h.run2("ZREVRANK", "z", "b") == .integer(2))
        #expect(h.run2("ZRANK", "z", "d", "WITHSCORE") == .array([.integer(4), bulk("6")]))
        #expect(h.run2("ZRANK", "z", "nope") == .null)
        #expect(h.run2("ZREM", "z", "e", "nope") == .integer(1))
        #expect(h.run2("ZPOPMIN", "z") == bulks("c", "3"))
        #expect(h.run2("ZPOPMAX", "z", "2") == bulks("d", "6", "a", "5"))
        #expect(h.run2("ZRANGE", "z", "0", "-1", "WITHSCORES") == bulks("b", "4"))
        #expect(h.run2("ZPOPMIN", "z", "5") == bulks("b", "4"))
        #expect(h.run2("EXISTS", "z") == .integer(0))
        #expect(h.run2("ZPOPMIN", "z") == .array([]))
        // Lexicographic ranges, for members of equal score.
        h.run2("ZADD", "lex", "0", "apple", "0", "banana", "0", "cherry", "0", "date")
        #expect(h.run2("ZRANGEBYLEX", "lex", "[b", "(d") == bulks("banana", "cherry"))
        #expect(h.run2("ZRANGE", "lex", "+", "(banana", "BYLEX", "REV") == bulks("date", "cherry"))
        #expect(h.run2("ZRANGEBYLEX", "lex", "-", "+", "LIMIT", "1", "1") == bulks("banana"))
        #expect(h.run2("ZRANGEBYLEX", "lex", "b", "+").isError)
        #expect(h.run2("ZREMRANGEBYRANK", "lex", "0", "1") == .integer(2))
        h.run2("ZADD", "lex", "1", "x", "2", "y")
        #expect(h.run2("ZREMRANGEBYSCORE", "lex", "(0", "1") == .integer(1))
        #expect(h.run2("ZRANGE", "lex", "0", "-1") == bulks("cherry", "date", "y"))
        #expect(h.run2("TYPE", "lex") == .simpleString("zset"))
        // Equal scores order by member, the empty member first.
        h.run2("ZADD", "ties", "1", "b", "1", "a", "1", "", "0", "z")
        #expect(h.run2("ZRANGE", "ties", "0", "-1") == bulks("z", "", "a", "b"))
        #expect(h.run2("ZRANGEBYSCORE", "ties", "1", "1") == bulks("", "a", "b"))
        #expect(
            h.run2("ZSCAN", "ties", "0")
                == .array([bulk("0"), bulks("", "1", "a", "1", "b", "1", "z", "0")]))
        h.run2("SET", "s", "v")
        #expect(h.run2("ZADD", "s", "1", "a").isError)
        #expect(h.run2("ZRANGE", "s", "0", "-1").isError)
    }

    /// Random ZADD (with its options) / ZINCRBY / ZREM / ZPOPMIN / ZREMRANGEBYSCORE sequences
    /// give the ranges, ranks and scores a sorted array gives, across reopens.
    @Test(arguments: [5, 6, 7] as [UInt64])
    func randomSequencesMatchASortedArray(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        func pick<T>(_ options: [T]) -> T { options[Int(random.next() % UInt64(options.count))] }
        let directory = NSTemporaryDirectory() + "cohort-zsets-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var h = try ExecutorHarness(directory: directory)
        var model: [String: Double] = [:]
        let members = (0..<12).map { "m\($0)" }
        let scores = ["-2", "-1", "0", "0.5", "1", "1", "2", "3", "10"]
        func ordered() -> [(String, Double)] {
            model.sorted { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }
                .map { ($0.key, $0.value) }
        }
        func text(_ score: Double) -> String { RESPEncoder.doubleText(score) }
        for step in 0..<500 {
            switch random.next() % 8 {
            case 0, 1, 2:
                let member = pick(members)
                let score = Double(pick(scores))!
                let option = pick(["", "", "NX", "XX", "GT", "LT"])
                let old = model[member]
                var applies = true
                if option == "NX" && old != nil { applies = false }
                if option == "XX" && old == nil { applies = false }
                if let old, option == "GT" && score <= old { applies = false }
                if let old, option == "LT" && score >= old { applies = false }
                if applies { model[member] = score }
                let command =
                    ["ZADD", "z"] + (option.isEmpty ? [] : [option]) + [pick(scores), member]
                // The score sent is re-drawn above; use the one the model applied.
                var sent = command
                sent[sent.count - 2] = text(score)
                #expect(
                    h.run2(sent) == .integer(applies && old == nil ? 1 : 0), "step \(step): \(sent)"
                )
            case 3:
                let member = pick(members)
                let sum = (model[member] ?? 0) + 1.5
                model[member] = sum
                #expect(h.run2(["ZINCRBY", "z", "1.5", member]) == bulk(text(sum)))
            case 4:
                let member = pick(members)
                let existed = model.removeValue(forKey: member) != nil
                #expect(h.run2(["ZREM", "z", member]) == .integer(existed ? 1 : 0))
            case 5:
                let first = ordered().first
                if let first { model[first.0] = nil }
                #expect(
                    h.run2(["ZPOPMIN", "z"])
                        == (first.map { bulks($0.0, text($0.1)) } ?? .array([])),
                    "step \(step)")
            case 6:
                let gone = model.filter { $0.value > 0 && $0.value <= 1 }
                for member in gone.keys { model[member] = nil }
                #expect(
                    h.run2(["ZREMRANGEBYSCORE", "z", "(0", "1"]) == .integer(Int64(gone.count)))
            default:
                let all = ordered()
                #expect(
                    h.run2(["ZRANGE", "z", "0", "-1", "WITHSCORES"])
                        == .array(all.flatMap { [bulk($0.0), bulk(text($0.1))] }), "step \(step)")
                if let probe = all.randomElement(using: &random) {
                    let rank = all.firstIndex { $0.0 == probe.0 }!
                    #expect(h.run2(["ZRANK", "z", probe.0]) == .integer(Int64(rank)))
                }
                #expect(h.run2(["ZCARD", "z"]) == .integer(Int64(all.count)))
            }
            if step % 120 == 119 { h = try h.reopened() }
        }
    }
}
