import CohortCore
import CohortNode
import CohortStorage
import Foundation
import Testing

private func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }
private func bulks(_ texts: String...) -> RESPValue { .array(texts.map(bulk)) }

/// List commands: Redis's replies and errors, and random sequences against a model.
@Suite struct ListCommandTests {
    @Test func listCommandsAnswerAsRedisDoes() throws {
        let h = try ExecutorHarness()
        #expect(h.run("RPUSH", "l", "a", "b", "c") == .integer(3))
        #expect(h.run("LPUSH", "l", "z", "y") == .integer(5))
        #expect(h.run("LRANGE", "l", "0", "-1") == bulks("y", "z", "a", "b", "c"))
        #expect(h.run("LRANGE", "l", "-2", "100") == bulks("b", "c"))
        #expect(h.run("LRANGE", "l", "3", "1") == .array([]))
        #expect(h.run("LRANGE", "nokey", "0", "-1") == .array([]))
        #expect(h.run("LLEN", "l") == .integer(5))
        #expect(h.run("LINDEX", "l", "0") == bulk("y"))
        #expect(h.run("LINDEX", "l", "-1") == bulk("c"))
        #expect(h.run("LINDEX", "l", "5") == .null)
        #expect(h.run("LSET", "l", "1", "Z") == .simpleString("OK"))
        #expect(h.run("LSET", "l", "9", "x") == .error("ERR index out of range"))
        #expect(h.run("LSET", "nokey", "0", "x") == .error("ERR no such key"))
        #expect(h.run("LPOP", "l") == bulk("y"))
        #expect(h.run("RPOP", "l", "2") == bulks("c", "b"))
        #expect(h.run("LPOP", "l", "0") == .array([]))
        #expect(h.run("LPOP", "nokey") == .null)
        #expect(h.run("LPOP", "nokey", "2") == .nullArray)
        #expect(
            h.run("LPOP", "l", "-1") == .error("ERR value is out of range, must be positive"))
        #expect(h.run("LRANGE", "l", "0", "-1") == bulks("Z", "a"))
        #expect(h.run("LINSERT", "l", "BEFORE", "a", "m") == .integer(3))
        #expect(h.run("LINSERT", "l", "AFTER", "a", "n") == .integer(4))
        #expect(h.run("LINSERT", "l", "AFTER", "nope", "n") == .integer(-1))
        #expect(h.run("LINSERT", "nokey", "AFTER", "a", "n") == .integer(0))
        #expect(h.run("LINSERT", "l", "MIDDLE", "a", "n") == .error("ERR syntax error"))
        #expect(h.run("LRANGE", "l", "0", "-1") == bulks("Z", "m", "a", "n"))
        h.run("RPUSH", "l", "a", "x", "a")
        #expect(h.run("LREM", "l", "-2", "a") == .integer(2))
        #expect(h.run("LRANGE", "l", "0", "-1") == bulks("Z", "m", "a", "n", "x"))
        #expect(h.run("LPOS", "l", "a") == .integer(2))
        #expect(h.run("LPOS", "l", "nope") == .null)
        h.run("RPUSH", "l", "a")
        #expect(h.run("LPOS", "l", "a", "COUNT", "0") == .array([.integer(2), .integer(5)]))
        #expect(h.run("LPOS", "l", "a", "RANK", "-1") == .integer(5))
        #expect(h.run("LPOS", "l", "a", "RANK", "0").isError)
        #expect(h.run("LTRIM", "l", "1", "-2") == .simpleString("OK"))
        #expect(h.run("LRANGE", "l", "0", "-1") == bulks("m", "a", "n", "x"))
        #expect(h.run("LMOVE", "l", "other", "RIGHT", "LEFT") == bulk("x"))
        #expect(h.run("RPOPLPUSH", "l", "l") == bulk("n"))
        #expect(h.run("LRANGE", "l", "0", "-1") == bulks("n", "m", "a"))
        #expect(h.run("LRANGE", "other", "0", "-1") == bulks("x"))
        #expect(h.run("LPUSHX", "nokey", "a") == .integer(0))
        #expect(h.run("RPUSHX", "other", "y") == .integer(2))
        #expect(h.run("TYPE", "l") == .simpleString("list"))
        #expect(h.run("LTRIM", "l", "5", "10") == .simpleString("OK"))
        #expect(h.run("EXISTS", "l") == .integer(0))
        h.run("SET", "s", "v")
        #expect(h.run("LPUSH", "s", "a").isError)
        #expect(h.run("LMOVE", "other", "s", "LEFT", "LEFT").isError)
        #expect(h.run("LRANGE", "other", "0", "-1") == bulks("x", "y"), "nothing moved")
    }

    /// A queue (RPUSH at the tail, LPOP at the head) moves its window through positions; the
    /// items stay in order across restarts.
    @Test func aQueueKeepsItsOrderAcrossRestarts() throws {
        let directory = NSTemporaryDirectory() + "cohort-lists-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var h = try ExecutorHarness(directory: directory)
        var expected: [String] = []
        for round in 0..<20 {
            for index in 0..<30 {
                h.run("RPUSH", "queue", "item-\(round)-\(index)")
                expected.append("item-\(round)-\(index)")
            }
            for _ in 0..<25 {
                #expect(h.run("LPOP", "queue") == bulk(expected.removeFirst()))
            }
            if round % 5 == 4 { h = try h.reopened() }
        }
        #expect(h.run("LRANGE", "queue", "0", "-1") == .array(expected.map(bulk)))
        #expect(h.run("LLEN", "queue") == .integer(Int64(expected.count)))
    }
}

/// The blocking pops' single attempt, as the executor runs it (the waiting is the network
/// shell's): a pop when a key holds something, the null reply otherwise, Redis's errors.
@Suite struct BlockingCommandAttemptTests {
    @Test func anAttemptPopsFromTheFirstNonEmptyKeyOrAnswersNull() throws {
        let h = try ExecutorHarness()
        #expect(h.run("BLPOP", "a", "b", "0") == .nullArray)
        #expect(h.run("BRPOP", "a", "b", "0.5") == .nullArray)
        #expect(h.run("BLMOVE", "a", "b", "LEFT", "RIGHT", "1") == .null)
        #expect(h.run("BRPOPLPUSH", "a", "b", "1") == .null)
        #expect(h.run("BZPOPMIN", "z", "1") == .nullArray)
        h.run("RPUSH", "b", "1", "2", "3")
        #expect(h.run("BLPOP", "a", "b", "0") == bulks("b", "1"))
        #expect(h.run("BRPOP", "a", "b", "0") == bulks("b", "3"))
        #expect(h.run("BLMOVE", "b", "a", "LEFT", "LEFT", "0") == bulk("2"))
        #expect(h.run("EXISTS", "b") == .integer(0))
        #expect(h.run("BRPOPLPUSH", "a", "c", "0") == bulk("2"))
        #expect(h.run("LRANGE", "c", "0", "-1") == bulks("2"))
        h.run("ZADD", "z", "2", "two", "1", "one", "3", "three", "3", "tres")
        #expect(
            h.run("BZPOPMIN", "missing", "z", "0")
                == .array([bulk("z"), bulk("one"), .double(1)]))
        #expect(h.run("BZPOPMAX", "z", "0") == .array([bulk("z"), bulk("tres"), .double(3)]))
        #expect(h.run("ZCARD", "z") == .integer(2))
    }

    @Test func timeoutsAndTypesAreCheckedAsRedisChecksThem() throws {
        let h = try ExecutorHarness()
        #expect(h.run("BLPOP", "a", "-1") == .error("ERR timeout is negative"))
        #expect(h.run("BLPOP", "a", "soon") == .error("ERR timeout is not a float or out of range"))
        #expect(h.run("BLPOP", "a", "inf") == .error("ERR timeout is not a float or out of range"))
        #expect(
            h.run("BLMOVE", "a", "b", "UP", "LEFT", "1") == .error("ERR syntax error"))
        #expect(h.run("BLPOP", "a").isError)
        h.run("SET", "s", "x")
        #expect(h.run("BLPOP", "s", "0").text?.hasPrefix("WRONGTYPE") == true)
        #expect(h.run("BZPOPMIN", "s", "0").text?.hasPrefix("WRONGTYPE") == true)
    }

    @Test func theShellIsToldWhatToWaitFor() throws {
        let h = try ExecutorHarness()
        let wait = h.executor.blockingWait(
            for: ["BLPOP", "a", "b", "1.5"].map { Array($0.utf8) }, session: h.session)
        #expect(
            wait == BlockingWait(keys: [Array("a".utf8), Array("b".utf8)], timeoutMillis: 1_500))
        let move = h.executor.blockingWait(
            for: ["blmove", "s", "d", "LEFT", "LEFT", "0"].map { Array($0.utf8) },
            session: h.session)
        #expect(move?.keys == [Array("s".utf8), Array("d".utf8)])
        #expect(move?.timeoutMillis == 0)
        // Not blocking: other commands, malformed timeouts (they answer their error), MULTI.
        #expect(
            h.executor.blockingWait(for: [Array("LPOP".utf8), [0x61]], session: h.session) == nil)
        #expect(
            h.executor.blockingWait(
                for: ["BLPOP", "a", "-1"].map { Array($0.utf8) }, session: h.session) == nil)
        h.run("MULTI")
        #expect(
            h.executor.blockingWait(
                for: ["BLPOP", "a", "1"].map { Array($0.utf8) }, session: h.session) == nil)
        #expect(h.run("BLPOP", "a", "1") == .simpleString("QUEUED"))
        #expect(h.run("EXEC") == .array([.nullArray]), "inside MULTI a blocking pop never waits")
    }
}
