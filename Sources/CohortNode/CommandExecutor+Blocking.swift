import CohortCore
import CohortStorage

/// The blocking pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BZPOPMIN and BZPOPMAX.
///
/// The executor never blocks. It runs one attempt: the pop when a key has an element (the
/// same effects a leader replicates for LPOP), or the command's null reply when none has. The
/// network shell, which asks `blockingWait` first, then parks the client, waits for a write to
/// one of the keys on its node's engine (`StorageEngine.waitForWrites`: a local command, a
/// replicated apply or a snapshot restore) and tries again, until an attempt pops something or
/// the timeout passes. Inside MULTI the attempt is all there is, as in Redis.
extension CommandExecutor {
    static let blockingCommands: [CommandSpec] = [
        CommandSpec("blpop", arity: -3, flags: ["write", "blocking"], keys: (1, -2, 1)) {
            e, c in try e.blockingPop(&c, fromFront: true)
        },
        CommandSpec("brpop", arity: -3, flags: ["write", "blocking"], keys: (1, -2, 1)) {
            e, c in try e.blockingPop(&c, fromFront: false)
        },
        CommandSpec(
            "blmove", arity: 6, flags: ["write", "denyoom", "blocking"], keys: (1, 2, 1)
        ) { e, c in
            _ = try blockingTimeoutMillis(c.arguments[5])
            let from = c.option(3)
            let to = c.option(4)
            guard ["LEFT", "RIGHT"].contains(from), ["LEFT", "RIGHT"].contains(to) else {
                throw CommandError.syntax
            }
            return try e.move(&c, fromFront: from == "LEFT", toFront: to == "LEFT")
        },
        CommandSpec(
            "brpoplpush", arity: 4, flags: ["write", "denyoom", "blocking"], keys: (1, 2, 1)
        ) { e, c in
            _ = try blockingTimeoutMillis(c.arguments[3])
            return try e.move(&c, fromFront: false, toFront: true)
        },
        CommandSpec(
            "bzpopmin", arity: -3, flags: ["write", "blocking", "fast"], keys: (1, -2, 1)
        ) { e, c in try e.blockingZPop(&c, highest: false) },
        CommandSpec(
            "bzpopmax", arity: -3, flags: ["write", "blocking", "fast"], keys: (1, -2, 1)
        ) { e, c in try e.blockingZPop(&c, highest: true) },
    ]

    /// What a client must wait for when `arguments` finds nothing to pop: the keys and the
    /// timeout (0: forever). Nil when the command is not a blocking one, runs inside MULTI
    /// (where it never blocks), or is malformed (it then runs and answers the error).
    public func blockingWait(
        for arguments: [[UInt8]], session: ClientSession
    ) -> BlockingWait? {
        guard let name = arguments.first, name.first.map({ $0 | 0x20 }) == UInt8(ascii: "b"),
            session.queued == nil, let spec = spec(named: name), spec.flags.contains("blocking"),
            spec.accepts(argumentCount: arguments.count),
            let timeoutMillis = try? Self.blockingTimeoutMillis(arguments[arguments.count - 1])
        else { return nil }
        var keys: [[UInt8]] = []
        spec.forEachKeyPosition(argumentCount: arguments.count) { keys.append(arguments[$0]) }
        return BlockingWait(keys: keys, timeoutMillis: timeoutMillis)
    }

    /// A blocking command's timeout in milliseconds (0: forever), as Redis reads it: seconds,
    /// with a fraction.
    static func blockingTimeoutMillis(_ argument: [UInt8]) throws -> UInt64 {
        guard let seconds = RedisFloat.parse(argument), seconds.isFinite else {
            throw CommandError("ERR timeout is not a float or out of range")
        }
        guard seconds >= 0 else { throw CommandError("ERR timeout is negative") }
        let millis = (seconds * 1_000).rounded(.up)
        guard millis < Double(Int64.max / 2) else {
            throw CommandError("ERR timeout is out of range")
        }
        return UInt64(millis)
    }

    /// BLPOP / BRPOP key [key ...] timeout: [key, item] from the first key holding a list, or
    /// the null array.
    func blockingPop(_ c: inout CommandContext, fromFront: Bool) throws -> CommandOutcome {
        try popFromFirstKey(c) { txn, key in
            guard var list = try CommandExecutor.existing(txn, key, .list),
                let item = try txn.popItem(fromFront: fromFront, of: &list)
            else { return nil }
            try txn.saveCollection(list)
            return .array([.bulkString(key), .bulkString(item)])
        }
    }

    /// BZPOPMIN / BZPOPMAX key [key ...] timeout: [key, member, score] from the first key
    /// holding a sorted set, or the null array.
    func blockingZPop(_ c: inout CommandContext, highest: Bool) throws -> CommandOutcome {
        try popFromFirstKey(c) { txn, key in
            guard var zset = try CommandExecutor.existing(txn, key, .zset),
                let (member, score) = try CommandExecutor.extreme(txn, zset, highest: highest)
            else { return nil }
            try txn.removeMember(member, from: &zset)
            try txn.saveCollection(zset)
            return .array([.bulkString(key), .bulkString(member), .double(score)])
        }
    }

    /// `key [key ...] timeout`: the reply of `pop` on the first key it takes something from
    /// (nil: nothing there), or the null array.
    private func popFromFirstKey(
        _ c: CommandContext,
        _ pop: (inout StorageTransaction, [UInt8]) throws -> RESPValue?
    ) throws -> CommandOutcome {
        _ = try Self.blockingTimeoutMillis(c.arguments[c.arguments.count - 1])
        let keys = c.arguments[1..<(c.arguments.count - 1)]
        let (reply, commit) = try write(c) { txn -> RESPValue in
            for key in keys {
                if let reply = try pop(&txn, key) { return reply }
            }
            return .nullArray
        }
        return wrote(reply, commit)
    }
}

/// What a blocked client waits for (see `CommandExecutor.blockingWait`).
public struct BlockingWait: Sendable, Equatable {
    /// The clients' keys a write to which may unblock it.
    public var keys: [[UInt8]]
    /// How long to wait before answering the null reply; 0 waits forever.
    public var timeoutMillis: UInt64

    public init(keys: [[UInt8]], timeoutMillis: UInt64) {
        self.keys = keys
        self.timeoutMillis = timeoutMillis
    }
}
