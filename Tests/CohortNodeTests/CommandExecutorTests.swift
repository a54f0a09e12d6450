import CohortCore
import CohortNode
import CohortStorage
import Foundation
import Testing

/// Runs commands through the executor on a real engine in a temporary directory, with the
/// clock fixed by the test.
final class ExecutorHarness {
    let directory: String
    let engine: StorageEngine
    let executor: CommandExecutor
    var session: ClientSession
    var nowMillis: UInt64 = 1_700_000_000_000
    /// Whether the directory is this harness's own, removed with it (not when the test passed
    /// one in, to reopen it).
    let ownsDirectory: Bool

    init(
        password: String? = nil, fsync: FsyncPolicy = .none, directory given: String? = nil,
        nowMillis: UInt64 = 1_700_000_000_000
    ) throws {
        directory = given ?? NSTemporaryDirectory() + "cohort-exec-" + UUID().uuidString
        ownsDirectory = given == nil
        self.nowMillis = nowMillis
        var options = StorageOptions()
        options.fsync = fsync
        engine = try StorageEngine.open(
            directory: directory, options: options, nowMillis: nowMillis)
        var configuration = ServerConfiguration()
        configuration.password = password
        configuration.fsync = fsync
        executor = CommandExecutor(
            engine: engine, configuration: configuration, statistics: ServerStatistics(),
            startedAtMillis: nowMillis)
        session = ClientSession(id: 1, address: "test", authenticated: password == nil)
    }

    deinit {
        try? engine.close()
        if ownsDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }

    @discardableResult
    func run(_ arguments: String...) -> RESPValue {
        run(arguments)
    }

    @discardableResult
    func run(_ arguments: [String]) -> RESPValue {
        executor.execute(arguments.map { Array($0.utf8) }, session: &session, nowMillis: nowMillis)
            .reply
    }

    /// Closes the engine and opens a harness on the same directory (a restart).
    func reopened() throws -> ExecutorHarness {
        try engine.close()
        return try ExecutorHarness(directory: directory, nowMillis: nowMillis)
    }
}

private func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

@Suite struct CommandExecutorTests {
    @Test func isNamedComparesWithoutRegardToCase() {
        #expect(CommandExecutor.isNamed(Array("cohort".utf8), "COHORT"))
        #expect(CommandExecutor.isNamed(Array("CoHoRt".utf8), "COHORT"))
        #expect(CommandExecutor.isNamed(Array("WAIT".utf8), "WAIT"))
        #expect(!CommandExecutor.isNamed(Array("cohorts".utf8), "COHORT"))
        #expect(!CommandExecutor.isNamed(Array("cohor".utf8), "COHORT"))
        #expect(!CommandExecutor.isNamed(Array("wail".utf8), "WAIT"))
        #expect(!CommandExecutor.isNamed([], "WAIT"))
        // Only ASCII letters fold: '{' is 'a' - 32 + ... never equal to '['.
        #expect(!CommandExecutor.isNamed(Array("{".utf8), "["))
    }

    /// A command that fails leaves the connection's session as it was: the executor lends the
    /// session to the handler rather than copying it back only on success, so this holds only
    /// while every handler changes the session after its last way to fail.
    @Test func failedCommandsLeaveTheSessionAsItWas() throws {
        let h = try ExecutorHarness()
        #expect(h.run("CLIENT", "SETNAME", "me") == .simpleString("OK"))
        #expect(h.run("CLIENT", "SETINFO", "LIB-NAME", "lib") == .simpleString("OK"))
        #expect(h.run("COHORT", "CONSISTENCY", "session") == .simpleString("OK"))
        #expect(h.run("COHORT", "SESSION", "7") == .simpleString("OK"))
        #expect(h.run("COHORT", "ACK", "leader") == .simpleString("OK"))
        let failing: [[String]] = [
            ["CLIENT", "SETNAME", "two words"],
            ["CLIENT", "SETINFO", "LIB-BOGUS", "x"],
            ["HELLO", "3", "SETNAME", "two words"],
            ["HELLO", "3", "BOGUS"],
            ["COHORT", "CONSISTENCY", "bogus"],
            ["COHORT", "CONSISTENCY", "stale", "soon"],
            ["COHORT", "SESSION", "later"],
            ["COHORT", "ACK", "bogus"],
        ]
        for arguments in failing {
            let reply = h.executor.execute(
                arguments.map { Array($0.utf8) }, session: &h.session, nowMillis: h.nowMillis
            ).reply
            guard case .error = reply else {
                Issue.record("\(arguments) was expected to fail, got \(reply)")
                continue
            }
            #expect(h.session.name == Array("me".utf8), "\(arguments)")
            #expect(h.session.libraryName == "lib", "\(arguments)")
            #expect(h.session.protocolVersion == .resp2, "\(arguments)")
            #expect(h.session.readConsistency.name == "session", "\(arguments)")
            #expect(h.session.token == 7, "\(arguments)")
            #expect(h.session.ackMode?.rawValue == "leader", "\(arguments)")
        }
    }

    @Test func setOptionsBehaveLikeRedis() throws {
        let h = try ExecutorHarness()
        #expect(h.run("SET", "k", "v1") == .simpleString("OK"))
        #expect(h.run("SET", "k", "v2", "NX") == .null)
        #expect(h.run("GET", "k") == bulk("v1"))
        #expect(h.run("SET", "other", "x", "XX") == .null)
        #expect(h.run("GET", "other") == .null)
        #expect(h.run("SET", "k", "v3", "XX", "GET") == bulk("v1"))
        #expect(h.run("SET", "k", "v", "NX", "XX") == .error("ERR syntax error"))
        #expect(
            h.run("SET", "k", "v", "EX", "0") == .error("ERR invalid expire time in 'set' command"))
        #expect(h.run("SET", "k", "v", "EX", "10", "PX", "5") == .error("ERR syntax error"))
        #expect(h.run("SET", "t", "v", "EX", "10") == .simpleString("OK"))
        #expect(h.run("TTL", "t") == .integer(10))
        #expect(h.run("SET", "t", "w", "KEEPTTL") == .simpleString("OK"))
        #expect(h.run("PTTL", "t") == .integer(10_000))
        #expect(h.run("SET", "t", "w") == .simpleString("OK"))
        #expect(h.run("TTL", "t") == .integer(-1), "SET without KEEPTTL clears the TTL")
    }

    @Test func countersCheckTypesAndOverflow() throws {
        let h = try ExecutorHarness()
        #expect(h.run("INCR", "n") == .integer(1))
        #expect(h.run("INCRBY", "n", "41") == .integer(42))
        #expect(h.run("DECRBY", "n", "2") == .integer(40))
        #expect(h.run("DECR", "n") == .integer(39))
        #expect(h.run("SET", "s", "abc") == .simpleString("OK"))
        #expect(h.run("INCR", "s") == .error("ERR value is not an integer or out of range"))
        #expect(h.run("SET", "big", "9223372036854775807") == .simpleString("OK"))
        #expect(h.run("INCR", "big") == .error("ERR increment or decrement would overflow"))
        #expect(h.run("GET", "big") == bulk("9223372036854775807"), "a failed INCR writes nothing")
        #expect(
            h.run("INCRBY", "n", "1.5") == .error("ERR value is not an integer or out of range"))
        #expect(h.run("SET", "e", "v", "EX", "100") == .simpleString("OK"))
        #expect(h.run("APPEND", "e", "w") == .integer(2))
        #expect(h.run("TTL", "e") == .integer(100), "APPEND keeps the TTL")
        #expect(h.run("STRLEN", "e") == .integer(2))
    }

    @Test func expiryFollowsTheClock() throws {
        let h = try ExecutorHarness()
        h.run("SET", "k", "v")
        #expect(h.run("EXPIRE", "k", "5") == .integer(1))
        #expect(h.run("TTL", "k") == .integer(5))
        #expect(h.run("EXPIRE", "k", "50", "LT") == .integer(0))
        #expect(h.run("EXPIRE", "k", "50", "GT") == .integer(1))
        #expect(h.run("EXPIRE", "k", "60", "NX") == .integer(0))
        h.nowMillis += 49_999
        #expect(h.run("PTTL", "k") == .integer(1))
        h.nowMillis += 1
        #expect(h.run("GET", "k") == .null)
        #expect(h.run("TTL", "k") == .integer(-2))
        #expect(h.run("EXISTS", "k") == .integer(0))
        h.run("SET", "p", "v", "PX", "100")
        #expect(h.run("PERSIST", "p") == .integer(1))
        #expect(h.run("PERSIST", "p") == .integer(0))
        h.nowMillis += 1_000
        #expect(h.run("GET", "p") == bulk("v"))
        #expect(h.run("EXPIRE", "p", "-1") == .integer(1), "a past expiry deletes the key")
        #expect(h.run("GET", "p") == .null)
        #expect(h.run("EXPIRE", "missing", "10") == .integer(0))
    }

    @Test func multiKeyCommands() throws {
        let h = try ExecutorHarness()
        #expect(h.run("MSET", "a", "1", "b", "2") == .simpleString("OK"))
        #expect(
            h.run("MSET", "a", "1", "b")
                == .error("ERR wrong number of arguments for 'mset' command"))
        #expect(h.run("MGET", "a", "x", "b") == .array([bulk("1"), .null, bulk("2")]))
        #expect(h.run("EXISTS", "a", "a", "x") == .integer(2))
        #expect(h.run("MSETNX", "b", "9", "c", "3") == .integer(0))
        #expect(h.run("GET", "c") == .null)
        #expect(h.run("DEL", "a", "b", "x") == .integer(2))
        #expect(h.run("GETDEL", "a") == .null)
        #expect(h.run("DBSIZE") == .integer(0))
    }

    @Test func scanVisitsEveryKeyExactlyOnce() throws {
        let h = try ExecutorHarness()
        for index in 0..<300 { h.run("SET", "key:\(index)", "v") }
        for index in 0..<50 { h.run("SET", "other:\(index)", "v") }
        var seen: [String] = []
        var cursor = "0"
        var rounds = 0
        repeat {
            guard case .array(let parts) = h.run("SCAN", cursor, "MATCH", "key:*", "COUNT", "25"),
                parts.count == 2, case .bulkString(let next) = parts[0],
                case .array(let keys) = parts[1]
            else {
                Issue.record("malformed SCAN reply")
                return
            }
            cursor = String(decoding: next, as: UTF8.self)
            for case .bulkString(let key) in keys {
                seen.append(String(decoding: key, as: UTF8.self))
            }
            rounds += 1
        } while cursor != "0" && rounds < 1_000
        #expect(seen.count == 300)
        #expect(Set(seen).count == 300)
        #expect(seen.allSatisfy { $0.hasPrefix("key:") })
        #expect(h.run("SCAN", "123456789") == .error("ERR invalid cursor"))
        #expect(h.run("SCAN", "abc") == .error("ERR invalid cursor"))
    }

    @Test func authAndHello() throws {
        let h = try ExecutorHarness(password: "pw")
        #expect(h.run("GET", "k") == .error("NOAUTH Authentication required."))
        #expect(h.run("AUTH", "bad").text?.hasPrefix("WRONGPASS") == true)
        guard case .error(let message) = h.run("HELLO", "3") else {
            Issue.record("HELLO without auth must fail")
            return
        }
        #expect(message.hasPrefix("NOAUTH"))
        guard case .map(let fields) = h.run("HELLO", "3", "AUTH", "default", "pw", "SETNAME", "me")
        else {
            Issue.record("HELLO must reply with a map")
            return
        }
        #expect(fields.contains { $0.0 == bulk("proto") && $0.1 == .integer(3) })
        #expect(h.session.protocolVersion == .resp3)
        #expect(h.run("CLIENT", "GETNAME") == bulk("me"))
        #expect(h.run("HELLO", "4") == .error("NOPROTO unsupported protocol version"))
        #expect(h.run("SELECT", "0") == .simpleString("OK"))
        #expect(h.run("SELECT", "1") == .error("ERR DB index is out of range"))
    }

    @Test func serverIntrospection() throws {
        let h = try ExecutorHarness()
        guard case .map(let config) = h.run("CONFIG", "GET", "save", "appendonly") else {
            Issue.record("CONFIG GET must reply with a map")
            return
        }
        #expect(config.count == 2)
        guard case .array(let commands) = h.run("COMMAND") else {
            Issue.record("COMMAND must reply with an array")
            return
        }
        #expect(commands.count > 30)
        #expect(h.run("COMMAND", "COUNT") == .integer(Int64(commands.count)))
        guard case .bulkString(let info) = h.run("INFO") else {
            Issue.record("INFO must reply with a bulk string")
            return
        }
        let text = String(decoding: info, as: UTF8.self)
        for section in ["# Server", "# Clients", "# Persistence", "# Stats", "# Keyspace"] {
            #expect(text.contains(section) || section == "# Keyspace", "INFO lacks \(section)")
        }
        #expect(text.contains("redis_version:"))
        let unknown = h.run("NOPE", "a")
        #expect(unknown == .error("ERR unknown command 'NOPE', with args beginning with: 'a' "))
    }

    @Test func batchDurabilityHoldsRepliesUntilFsync() throws {
        let h = try ExecutorHarness(fsync: .batch)
        let write = h.executor.execute(
            [Array("SET".utf8), [1], [2]], session: &h.session, nowMillis: 0)
        #expect(write.awaitedSequence > 0, "a batch-mode write must wait for its fsync")
        let read = h.executor.execute([Array("GET".utf8), [1]], session: &h.session, nowMillis: 0)
        #expect(read.awaitedSequence >= write.awaitedSequence, "a read waits for what it may see")
        let relaxed = try ExecutorHarness(fsync: .everysec)
        let unsynced = relaxed.executor.execute(
            [Array("SET".utf8), [1], [2]], session: &relaxed.session, nowMillis: 0)
        #expect(unsynced.awaitedSequence == 0)
    }

    /// Prefetching a run of requests' keys runs nothing and changes nothing: the requests then
    /// run in order, each seeing the one before, whatever mix of commands (unknown ones, ones
    /// without keys, many keys at once) was prefetched.
    @Test func prefetchingKeysChangesNothing() throws {
        let h = try ExecutorHarness()
        h.run("SET", "a", "1")
        let requests: [[String]] = [
            ["GET", "a"], ["NOPE", "a"], ["PING"], ["SET", "a", "2"], ["GET", "a"],
            ["MSET", "b", "1", "c", "2"], ["MGET"] + (0..<200).map { "k\($0)" }, ["INCR", "b"],
            ["DEL", "a", "b"], ["GET", "b"], ["X"],
        ]
        let encoded = requests.map { $0.map { Array($0.utf8) } }
        h.executor.prefetchKeys(of: encoded[...])
        #expect(h.run("GET", "a") == bulk("1"), "prefetching must not run the SET in the run")
        #expect(h.run("EXISTS", "b") == .integer(0))
        let replies = encoded.map {
            h.executor.execute($0, session: &h.session, nowMillis: h.nowMillis).reply
        }
        #expect(replies[0] == bulk("1"))
        #expect(replies[4] == bulk("2"))
        #expect(replies[7] == .integer(2))
        #expect(replies[8] == .integer(2))
        #expect(replies[9] == .null)
    }
}

extension RESPValue {
    var text: String? {
        switch self {
        case .bulkString(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .simpleString(let text), .error(let text): return text
        default: return nil
        }
    }
}
