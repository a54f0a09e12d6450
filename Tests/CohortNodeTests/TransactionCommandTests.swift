import CohortCore
import CohortNode
import CohortStorage
import Foundation
import Testing

private func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

/// MULTI / EXEC / DISCARD / WATCH with Redis's replies, run as one storage group.
@Suite struct TransactionCommandTests {
    /// Runs `arguments` on `harness`'s executor as another connection.
    @discardableResult
    func runAsOther(_ h: ExecutorHarness, _ other: inout ClientSession, _ arguments: String...)
        -> RESPValue
    {
        h.executor.execute(
            arguments.map { Array($0.utf8) }, session: &other, nowMillis: h.nowMillis
        )
        .reply
    }

    @Test func execRunsTheQueueAsOneGroup() throws {
        let h = try ExecutorHarness()
        h.run("SET", "counter", "10")
        let before = h.engine.sequences.committed
        #expect(h.run("MULTI") == .simpleString("OK"))
        #expect(h.run("INCR", "counter") == .simpleString("QUEUED"))
        #expect(h.run("SET", "greeting", "hi") == .simpleString("QUEUED"))
        #expect(h.run("GET", "greeting") == .simpleString("QUEUED"))
        #expect(h.run("HSET", "h", "f", "v") == .simpleString("QUEUED"))
        #expect(h.run("HGETALL", "h") == .simpleString("QUEUED"))
        #expect(h.run("PING") == .simpleString("QUEUED"))
        // Nothing ran yet.
        #expect(h.engine.sequences.committed == before)
        let other = try ExecutorHarness.otherSession()
        var session = other
        #expect(runAsOther(h, &session, "GET", "greeting") == .null)
        #expect(
            h.run("EXEC")
                == .array([
                    .integer(11), .simpleString("OK"), bulk("hi"), .integer(1),
                    .map([(bulk("f"), bulk("v"))]), .simpleString("PONG"),
                ]))
        // Every write of the transaction went out as one group under one sequence.
        #expect(h.engine.sequences.committed == before + 1)
        #expect(h.run("GET", "counter") == bulk("11"))
        #expect(h.run("EXEC") == .error("ERR EXEC without MULTI"))
    }

    @Test func queuingErrorsDoomTheTransaction() throws {
        let h = try ExecutorHarness()
        h.run("MULTI")
        #expect(h.run("SET", "a", "1") == .simpleString("QUEUED"))
        #expect(h.run("SET", "a") == .error("ERR wrong number of arguments for 'set' command"))
        #expect(
            h.run("EXEC") == .error("EXECABORT Transaction discarded because of previous errors."))
        #expect(h.run("GET", "a") == .null)
        h.run("MULTI")
        #expect(h.run("NOSUCH", "x").isError)
        #expect(h.run("EXEC").isError)
        h.run("MULTI")
        #expect(h.run("KEYS", "*").isError, "commands Cohort cannot batch are refused")
        #expect(h.run("EXEC").isError)
        h.run("MULTI")
        #expect(h.run("MULTI") == .error("ERR MULTI calls can not be nested"))
        #expect(h.run("WATCH", "a") == .error("ERR WATCH inside MULTI is not allowed"))
        #expect(h.run("SET", "a", "2") == .simpleString("QUEUED"))
        // Neither error doomed it.
        #expect(h.run("EXEC") == .array([.simpleString("OK")]))
        h.run("MULTI")
        h.run("SET", "a", "3")
        #expect(h.run("DISCARD") == .simpleString("OK"))
        #expect(h.run("GET", "a") == bulk("2"))
        #expect(h.run("DISCARD") == .error("ERR DISCARD without MULTI"))
    }

    /// A runtime error (WRONGTYPE) answers that command and lets the others run; a command
    /// that fails part way leaves none of its own writes.
    @Test func runtimeErrorsFailOneCommandOnly() throws {
        let h = try ExecutorHarness()
        h.run("SET", "s", "text")
        h.run("HSET", "h", "a", "0")
        h.run("MULTI")
        h.run("INCR", "s")
        h.run("SET", "t", "1")
        // The first field is written, the second is over the key limit: HSET fails whole.
        h.run("HSET", "h", "ok", "1", String(repeating: "k", count: (1 << 20) + 1), "v")
        h.run("HSET", "h2", "f", "v")
        let reply = h.run("EXEC")
        guard case .array(let replies) = reply, replies.count == 4 else {
            Issue.record("EXEC answered \(reply)")
            return
        }
        #expect(replies[0] == .error("ERR value is not an integer or out of range"))
        #expect(replies[1] == .simpleString("OK"))
        #expect(replies[2] == .error("ERR key is too large"))
        #expect(replies[3] == .integer(1))
        #expect(h.run("GET", "t") == bulk("1"))
        #expect(h.run("HGETALL", "h") == .map([(bulk("a"), bulk("0"))]))
        #expect(h.run("HGET", "h2", "f") == bulk("v"))
    }

    @Test func watchAbortsExecWhenAWatchedKeyChanged() throws {
        let h = try ExecutorHarness()
        var other = try ExecutorHarness.otherSession()
        h.run("SET", "balance", "100")
        // Unchanged: EXEC runs.
        #expect(h.run("WATCH", "balance", "absent") == .simpleString("OK"))
        h.run("MULTI")
        h.run("DECRBY", "balance", "30")
        #expect(h.run("EXEC") == .array([.integer(70)]))
        // Changed by another connection between WATCH and EXEC: nothing runs.
        h.run("WATCH", "balance")
        #expect(runAsOther(h, &other, "INCRBY", "balance", "5") == .integer(75))
        h.run("MULTI")
        h.run("DECRBY", "balance", "30")
        h.run("SET", "audit", "x")
        #expect(h.run("EXEC") == .nullArray)
        #expect(h.run("GET", "balance") == bulk("75"))
        #expect(h.run("GET", "audit") == .null)
        // A key that was absent and is created counts as changed; so does a hash field.
        h.run("WATCH", "absent")
        runAsOther(h, &other, "SET", "absent", "now")
        h.run("MULTI")
        h.run("SET", "x", "1")
        #expect(h.run("EXEC") == .nullArray)
        h.run("HSET", "h", "f", "1")
        h.run("WATCH", "h")
        runAsOther(h, &other, "HSET", "h", "f", "2")
        h.run("MULTI")
        h.run("SET", "x", "1")
        #expect(h.run("EXEC") == .nullArray)
        // Expiry changes a key too.
        h.run("SET", "lease", "me", "PX", "100")
        h.run("WATCH", "lease")
        h.nowMillis += 200
        h.run("MULTI")
        h.run("SET", "x", "2")
        #expect(h.run("EXEC") == .nullArray)
        // UNWATCH forgets, and EXEC ended the watches of the transactions above.
        h.run("WATCH", "balance")
        runAsOther(h, &other, "SET", "balance", "0")
        h.run("UNWATCH")
        h.run("MULTI")
        h.run("SET", "x", "3")
        #expect(h.run("EXEC") == .array([.simpleString("OK")]))
    }

    /// The queued form a follower sends its leader carries the commands and the watches, and
    /// a leader evaluating it collects the writes of every command as one set of effects.
    @Test func theQueuedFormRunsAsOneEvaluation() throws {
        let h = try ExecutorHarness()
        h.run("SET", "watched", "1")
        var session = try ExecutorHarness.otherSession()
        @discardableResult
        func run(_ arguments: String...) -> RESPValue {
            h.executor.execute(
                arguments.map { Array($0.utf8) }, session: &session, nowMillis: h.nowMillis
            ).reply
        }
        run("WATCH", "watched", "nothing")
        run("MULTI")
        run("SET", "a", "1")
        run("SADD", "s", "x", "y")
        run("GET", "a")
        let form = try #require(h.executor.takeQueuedTransaction(&session))
        #expect(session.queued == nil && session.watched.isEmpty)
        let evaluation = h.executor.evaluateWrite(
            form, overlay: [:], overlayHidesEngine: false, nowMillis: h.nowMillis)
        #expect(evaluation.reply == .array([.simpleString("OK"), .integer(2), bulk("1")]))
        // The string, the set's header and its two elements.
        #expect(evaluation.writes.count == 4)
        // Nothing was committed: the leader replicates the writes first.
        #expect(h.run("GET", "a") == .null)
        // A watched key that changed before the leader evaluates it aborts it there.
        h.run("SET", "watched", "2")
        let aborted = h.executor.evaluateWrite(
            form, overlay: [:], overlayHidesEngine: false, nowMillis: h.nowMillis)
        #expect(aborted.reply == .nullArray)
        #expect(aborted.writes.isEmpty)
        // Malformed forms are refused.
        var bad = form
        bad[2] = Array("7".utf8)
        #expect(
            h.executor.evaluateWrite(bad, overlay: [:], overlayHidesEngine: false, nowMillis: 0)
                .reply == .error("ERR malformed queued transaction"))
    }
}

extension ExecutorHarness {
    /// A second authenticated connection's session.
    static func otherSession() throws -> ClientSession {
        ClientSession(id: 2, address: "other", authenticated: true)
    }
}

extension RESPValue {
    var isError: Bool {
        if case .error = self { return true }
        return false
    }
}
