import CohortCore
import CohortStorage

/// MULTI / EXEC / DISCARD / WATCH / UNWATCH with Redis's semantics: commands queue after
/// MULTI (a malformed one dooms the transaction: EXECABORT), EXEC runs them all at once, and a
/// WATCHed key that changed since (by any client, on any node, or by expiry) makes EXEC answer
/// a null array and run nothing.
///
/// EXEC runs the queue in one storage transaction (`ExecBatch`): each command sees the writes
/// of the ones before, and all of them commit as one group, which recovery applies whole or
/// not at all. Under replication a node sends the queue to the leader as one request (the
/// queued form below), and the leader evaluates it into one log entry, so no failover ever
/// applies half of one.
///
/// Inside a transaction Cohort runs the data commands (strings, keys, hashes, sets), PING and
/// ECHO; SCAN, KEYS, DBSIZE, FLUSHDB, FLUSHALL, WAIT and the connection and server commands
/// are refused when queued (which dooms the transaction, so nothing runs by surprise).
extension CommandExecutor {
    static let transactionCommands: [CommandSpec] = [
        CommandSpec("multi", arity: 1, flags: ["fast"]) { _, c in
            guard c.session.queued == nil else {
                throw CommandError("ERR MULTI calls can not be nested")
            }
            c.session.queued = QueuedTransaction()
            return .ok
        },
        CommandSpec("discard", arity: 1, flags: ["fast"]) { _, c in
            guard c.session.queued != nil else { throw CommandError("ERR DISCARD without MULTI") }
            c.session.queued = nil
            c.session.watched = []
            return .ok
        },
        CommandSpec("watch", arity: -2, flags: ["fast"], keys: (1, -1, 1)) { e, c in
            guard c.session.queued == nil else {
                throw CommandError("ERR WATCH inside MULTI is not allowed")
            }
            let keys = c.arguments.dropFirst()
            let found = try keys.map {
                WatchedKey(key: $0, sequence: try e.keyMetadata(c, $0)?.sequence)
            }
            guard c.session.watched.count + found.count <= CommandExecutor.watchedKeysMax else {
                throw CommandError(
                    "ERR too many watched keys (at most \(CommandExecutor.watchedKeysMax) per connection)"
                )
            }
            c.session.watched += found
            return .ok
        },
        CommandSpec("unwatch", arity: 1, flags: ["fast"]) { _, c in
            c.session.watched = []
            return .ok
        },
        // Arity -1: a node sends a queue to its leader as `EXEC <queued form>`.
        CommandSpec("exec", arity: -1, flags: ["write"]) { e, c in try e.exec(&c) },
    ]

    /// Commands that act at once inside MULTI instead of being queued.
    static let transactionControl: Set<String> = [
        "multi", "exec", "discard", "watch", "unwatch", "quit",
    ]

    /// Commands a connection may queue, at most.
    static let queuedCommandsMax = 100_000

    /// Keys a connection may watch, at most.
    static let watchedKeysMax = 10_000

    /// Whether `spec` may run inside EXEC: the data commands whose reads and writes go through
    /// the batch's transaction, and PING and ECHO.
    static func runsInTransaction(_ spec: CommandSpec) -> Bool {
        if spec.name == "ping" || spec.name == "echo" { return true }
        guard spec.flags.contains("write") || spec.flags.contains("readonly") else { return false }
        return !["scan", "keys", "dbsize", "flushdb", "flushall", "exec"].contains(spec.name)
    }

    /// Queues `arguments` in the session's MULTI.
    func queue(
        _ arguments: [[UInt8]], spec: CommandSpec, session: inout ClientSession
    ) -> CommandOutcome {
        guard Self.runsInTransaction(spec) else {
            session.queued?.failed = true
            return CommandOutcome(
                .error(
                    "ERR \(spec.name.uppercased()) is not supported inside MULTI by Cohort "
                        + "(data commands, PING and ECHO are)"))
        }
        guard (session.queued?.commands.count ?? 0) < Self.queuedCommandsMax else {
            session.queued?.failed = true
            return CommandOutcome(
                .error("ERR too many commands in MULTI (at most \(Self.queuedCommandsMax))"))
        }
        session.queued?.commands.append(arguments)
        return CommandOutcome(.simpleString("QUEUED"))
    }

    /// EXEC: the session's queue, or a queue another node sent in the queued form.
    func exec(_ c: inout CommandContext) throws -> CommandOutcome {
        let commands: [[[UInt8]]]
        let watched: [WatchedKey]
        if c.arguments.count > 1 {
            guard let decoded = Self.decodeQueued(c.arguments) else {
                throw CommandError("ERR malformed queued transaction")
            }
            (commands, watched) = decoded
        } else {
            guard let queued = c.session.queued else {
                throw CommandError("ERR EXEC without MULTI")
            }
            // EXEC ends the transaction and the watches whatever happens next.
            c.session.queued = nil
            watched = c.session.watched
            c.session.watched = []
            if queued.failed {
                throw CommandError(
                    "EXECABORT Transaction discarded because of previous errors.")
            }
            commands = queued.commands
        }
        var session = c.session
        let now = c.nowMillis
        let (reply, commit) = try write(c) { txn -> RESPValue in
            for watch in watched where txn.metadata(watch.key)?.sequence != watch.sequence {
                return .nullArray
            }
            let batch = ExecBatch(txn)
            defer { txn = batch.transaction }
            return .array(
                commands.map { runQueued($0, session: &session, nowMillis: now, batch: batch) })
        }
        c.session = session
        return wrote(reply, commit)
    }

    /// Runs one queued command inside EXEC. A command that fails leaves no write behind (the
    /// others still run, as in Redis).
    private func runQueued(
        _ arguments: [[UInt8]], session: inout ClientSession, nowMillis: UInt64, batch: ExecBatch
    ) -> RESPValue {
        guard let spec = arguments.first.flatMap({ CommandName($0) }).flatMap({ commands[$0] })
        else {
            return .error(
                CommandExecutor.unknownCommandMessage(arguments.isEmpty ? [[]] : arguments))
        }
        guard spec.accepts(argumentCount: arguments.count), Self.runsInTransaction(spec) else {
            return .error("ERR \(spec.name.uppercased()) cannot run inside EXEC")
        }
        var context = CommandContext(
            arguments: arguments, session: ClientSession.placeholder, nowMillis: nowMillis,
            speculation: nil, batch: batch)
        swap(&context.session, &session)
        defer { swap(&context.session, &session) }
        let before = batch.transaction
        do {
            return try spec.run(self, &context).reply
        } catch {
            batch.transaction = before
            return Self.errorReply(error)
        }
    }

    /// The first argument of the queued form: `EXEC COHORT-QUEUED <watched count>
    /// (<key> <sequence or ->)... (<argument count> <argument>...)...`.
    static let queuedMarker = Array("COHORT-QUEUED".utf8)

    /// What a clustered node submits for `arguments`, a command of `kind`: for EXEC after
    /// MULTI, the session's queue in the queued form (which ends the transaction, as EXEC
    /// does); otherwise the command itself. Both hosts call it once the command is to run.
    public func submission(
        of arguments: [[UInt8]], kind: ClusterCommandKind, session: inout ClientSession
    ) -> [[UInt8]] {
        guard kind == .write, arguments.count == 1 else { return arguments }
        return takeQueuedTransaction(&session) ?? arguments
    }

    /// The queued form of `session`'s transaction, which ends it (as EXEC does); nil when the
    /// session is not in a MULTI or queuing failed (EXEC then answers locally).
    public func takeQueuedTransaction(_ session: inout ClientSession) -> [[UInt8]]? {
        guard let queued = session.queued, !queued.failed else { return nil }
        var form: [[UInt8]] = [Array("EXEC".utf8), Self.queuedMarker]
        form.append(Array(String(session.watched.count).utf8))
        for watch in session.watched {
            form.append(watch.key)
            form.append(Array((watch.sequence.map(String.init) ?? "-").utf8))
        }
        for command in queued.commands {
            form.append(Array(String(command.count).utf8))
            form.append(contentsOf: command)
        }
        session.queued = nil
        session.watched = []
        return form
    }

    /// The commands and watches of a queued form; nil when it is malformed.
    static func decodeQueued(
        _ arguments: [[UInt8]]
    ) -> (commands: [[[UInt8]]], watched: [WatchedKey])? {
        func number(_ bytes: [UInt8]) -> Int? {
            Int(String(decoding: bytes, as: UTF8.self)).flatMap { $0 >= 0 ? $0 : nil }
        }
        guard arguments.count >= 3, arguments[1] == queuedMarker,
            let watchCount = number(arguments[2]), watchCount <= watchedKeysMax,
            arguments.count >= 3 + 2 * watchCount
        else { return nil }
        var position = 3
        var watched: [WatchedKey] = []
        for _ in 0..<watchCount {
            let sequenceText = arguments[position + 1]
            let sequence: UInt64?
            if sequenceText == Array("-".utf8) {
                sequence = nil
            } else {
                guard let parsed = UInt64(String(decoding: sequenceText, as: UTF8.self)) else {
                    return nil
                }
                sequence = parsed
            }
            watched.append(WatchedKey(key: arguments[position], sequence: sequence))
            position += 2
        }
        var commands: [[[UInt8]]] = []
        while position < arguments.count {
            guard let count = number(arguments[position]), count >= 1,
                position + count < arguments.count, commands.count < queuedCommandsMax
            else { return nil }
            commands.append(Array(arguments[(position + 1)...(position + count)]))
            position += count + 1
        }
        return (commands, watched)
    }
}
