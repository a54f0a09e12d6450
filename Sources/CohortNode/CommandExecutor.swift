import CohortCore
import CohortStorage
import Synchronization

/// Runs Redis commands against the storage engine. It does no network I/O and reads no clock:
/// the shell passes the time in, and turns each `CommandOutcome` into bytes on the wire once
/// the durability it names is reached.
public final class CommandExecutor: Sendable {
    public let engine: StorageEngine
    public let configuration: ServerConfiguration
    public let statistics: ServerStatistics
    let cursors: ScanCursorTable
    /// Process start, for INFO's uptime.
    let startedAtMillis: UInt64
    /// Static facts INFO reports about the process (pid, executable), filled by the shell.
    public let processFacts: [(String, String)]
    /// The replication driver, when this node is clustered.
    public let replication = ReplicationStatusSlot()

    /// Every command by its name.
    let commands: CommandTable
    /// All command specifications, sorted by name, for COMMAND.
    let allSpecs: [CommandSpec]
    /// The random picks of SRANDMEMBER, SPOP and HRANDFIELD, seeded from the node's name and
    /// start time (never from the system's random source: the simulator replays a seed).
    let picks: Mutex<SplitMix64>

    public init(
        engine: StorageEngine, configuration: ServerConfiguration, statistics: ServerStatistics,
        startedAtMillis: UInt64, processFacts: [(String, String)] = []
    ) {
        self.engine = engine
        self.configuration = configuration
        self.statistics = statistics
        self.startedAtMillis = startedAtMillis
        self.cursors = ScanCursorTable(
            nodeName: configuration.nodeName, startedAtMillis: startedAtMillis)
        self.processFacts = processFacts
        self.picks = Mutex(
            SplitMix64(seed: FNV1a.hash(configuration.nodeName.utf8) ^ startedAtMillis))
        var commands: [CommandName: CommandSpec] = [:]
        for spec in CommandExecutor.stringCommands + CommandExecutor.keyCommands
            + CommandExecutor.hashCommands + CommandExecutor.setCommands
            + CommandExecutor.listCommands + CommandExecutor.sortedSetCommands
            + CommandExecutor.blockingCommands
            + CommandExecutor.randomPickCommands
            + CommandExecutor.transactionCommands
            + CommandExecutor.connectionCommands
            + CommandExecutor.serverCommands + CommandExecutor.cohortCommands
        {
            guard let name = CommandName(Array(spec.name.utf8)) else {
                preconditionFailure("command name \(spec.name) is too long to pack")
            }
            precondition(commands[name] == nil, "command \(spec.name) defined twice")
            commands[name] = spec
        }
        self.commands = CommandTable(commands)
        self.allSpecs = commands.values.sorted { $0.name < $1.name }
    }

    /// Executes one request. `session` is the connection's state, which commands like HELLO,
    /// AUTH and CLIENT SETNAME change.
    ///
    /// With `speculation` (a replication leader evaluating a write), the command's writes are
    /// collected there instead of committed.
    public func execute(
        _ arguments: [[UInt8]], session: inout ClientSession, nowMillis: UInt64,
        speculation: Speculation? = nil
    ) -> CommandOutcome {
        statistics.commandsProcessed.add()
        guard let first = arguments.first else {
            return CommandOutcome(.error("ERR empty command"))
        }
        guard let spec = CommandName(first).flatMap({ commands[$0] }) else {
            session.queued?.failed = true
            return CommandOutcome(.error(CommandExecutor.unknownCommandMessage(arguments)))
        }
        if !session.authenticated && !spec.allowedWithoutAuth {
            return CommandOutcome(.error(CommandError.noAuth.message))
        }
        guard spec.accepts(argumentCount: arguments.count) else {
            // Inside MULTI a malformed command dooms the transaction, as in Redis.
            session.queued?.failed = true
            return CommandOutcome(.error(CommandError.wrongArity(spec.name).message))
        }
        if session.queued != nil && !Self.transactionControl.contains(spec.name) {
            return queue(arguments, spec: spec, session: &session)
        }
        // The session moves into the context and back (swaps, not copies): copying it costs a
        // reference-count operation per field, on every request.
        var context = CommandContext(
            arguments: arguments, session: ClientSession.placeholder, nowMillis: nowMillis,
            speculation: speculation)
        swap(&context.session, &session)
        defer { swap(&context.session, &session) }
        do {
            return try spec.run(self, &context)
        } catch {
            return CommandOutcome(Self.errorReply(error))
        }
    }

    /// The reply to a command that threw `error`.
    static func errorReply(_ error: any Error) -> RESPValue {
        switch error {
        case let error as CommandError: .error(error.message)
        case let error as StorageError: .error(message(for: error))
        default: .error("ERR \(error)")
        }
    }

    /// Prefetch hints for the keys that `requests`, about to run in order, will look up (see
    /// `StorageEngine.prefetch`): a pipeline's index lookups then wait for memory together.
    /// Runs nothing; a request that is not a known command, or names no key, adds nothing.
    public func prefetchKeys(of requests: ArraySlice<[[UInt8]]>) {
        var keys: [[UInt8]] = []
        keys.reserveCapacity(min(requests.count, Self.prefetchKeysMax))
        for arguments in requests where arguments.count > 1 {
            guard let spec = CommandName(arguments[0]).flatMap({ commands[$0] }) else { continue }
            spec.forEachKeyPosition(argumentCount: arguments.count) { position in
                if keys.count < Self.prefetchKeysMax { keys.append(arguments[position]) }
            }
            if keys.count == Self.prefetchKeysMax { break }
        }
        engine.prefetch(keys)
    }

    /// The most keys one `prefetchKeys` hints at: more would evict the first ones' lines
    /// before their lookups run.
    static let prefetchKeysMax = 64

    /// The reply Redis gives for an unknown command, quoting a bounded part of it.
    static func unknownCommandMessage(_ arguments: [[UInt8]]) -> String {
        let quoteBytesMax = 128
        let name = String(decoding: arguments[0].prefix(quoteBytesMax), as: UTF8.self)
        // Like Redis, each quoted argument is followed by a space.
        let rest = arguments.dropFirst().prefix(8).map {
            "'" + String(decoding: $0.prefix(quoteBytesMax), as: UTF8.self) + "' "
        }
        return "ERR unknown command '\(name)', with args beginning with: " + rest.joined()
    }

    static func message(for error: StorageError) -> String {
        switch error {
        case .keyTooLarge: return "ERR key is too large"
        case .valueTooLarge: return "ERR string exceeds maximum allowed size"
        case .diskFull:
            return "MISCONF disk is full: the write was not applied; free space and retry"
        default: return "ERR storage: \(error)"
        }
    }

    /// Upper-cases ASCII letters without Unicode case mapping. Returns the argument itself,
    /// without copying, when it has no lower-case letter: clients usually send names in upper
    /// case, and command lookup is on every request's path.
    public static func upperCased(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(where: { $0 >= 97 && $0 <= 122 }) else { return bytes }
        return bytes.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }
    }

    /// Whether `argument` is `name` (ASCII, compared case-insensitively) without copying or
    /// allocating: the cluster path asks this of commands on every request.
    public static func isNamed(_ argument: [UInt8], _ name: StaticString) -> Bool {
        CommandWord.matches(argument, name)
    }

    /// The command's specification, if `name` is a known command.
    public func spec(named name: [UInt8]) -> CommandSpec? {
        CommandName(name).flatMap { commands[$0] }
    }

    /// Runs a write transaction: committed to the engine, or under a replication leader
    /// collected in the context's speculation (then no commit is returned).
    func write<R>(
        _ c: CommandContext, _ body: (inout StorageTransaction) throws -> R
    ) throws -> (result: R, commit: Commit?) {
        if let batch = c.batch { return (try body(&batch.transaction), nil) }
        guard let speculation = c.speculation else {
            return try engine.transaction(nowMillis: c.nowMillis, body)
        }
        let (result, writes) = try engine.speculate(
            nowMillis: c.nowMillis, overlay: speculation.overlay,
            overlayHidesEngine: speculation.overlayHidesEngine, body)
        speculation.writes.merge(writes) { _, newer in newer }
        return (result, nil)
    }

    /// Runs `body` over the committed state (or, inside EXEC, over the batch's transaction,
    /// which holds the writes of the commands before).
    func reading<R>(_ c: CommandContext, _ body: (StorageTransaction) throws -> R) throws -> R {
        if let batch = c.batch { return try body(batch.transaction) }
        return try engine.read(nowMillis: c.nowMillis, body)
    }

    /// The live value of the client's `key` as the command sees it (see `reading`).
    func value(_ c: CommandContext, _ key: [UInt8]) throws -> StoredValue? {
        if let batch = c.batch { return try batch.transaction.get(key) }
        return try engine.get(key, nowMillis: c.nowMillis)
    }

    /// The metadata of the live version of the client's `key` as the command sees it.
    func keyMetadata(_ c: CommandContext, _ key: [UInt8]) throws -> VersionMetadata? {
        if let batch = c.batch { return batch.transaction.metadata(key) }
        return try engine.metadata(key, nowMillis: c.nowMillis)
    }

    /// Deletes every key, or under a replication leader records that the command does.
    func flushAll(_ c: CommandContext) throws -> Commit? {
        guard let speculation = c.speculation else { return try engine.flushAll() }
        speculation.flushesAll = true
        speculation.writes.removeAll()
        return nil
    }

    /// The sequence a reply must wait for (see `AcknowledgementPoint`). Under `fsync batch` a
    /// write's reply waits for its own commit's fsync, and a read's reply for every write the
    /// engine has accepted so far, so that no client ever sees a value that a crash could take
    /// back. Under `everysec` and `none` with deferred appends (a standalone server) the same
    /// replies wait until those records are in the file, which the server does once per turn
    /// of its event loop before sending the turn's replies, as Redis writes its AOF buffer: a
    /// crash of the process alone then loses no acknowledged write. Otherwise nothing waits.
    func durability(after commit: Commit?) -> UInt64 {
        guard let commit, engine.acknowledgementPoint != .commit else { return 0 }
        return commit.sequence
    }

    /// A reply to a read-only command, held until what it observed is durable.
    func read(_ reply: RESPValue) -> CommandOutcome {
        CommandOutcome(reply, awaitedSequence: engine.observedSequenceToAwait)
    }

    /// A reply to a command that may have written.
    func wrote(_ reply: RESPValue, _ commit: Commit?) -> CommandOutcome {
        // A command that wrote nothing (SET NX on an existing key) still observed state.
        CommandOutcome(
            reply,
            awaitedSequence: commit.map { durability(after: $0) } ?? engine.observedSequenceToAwait)
    }
}
