import CohortCore
import CohortStorage

/// String commands: GET, SET and friends, counters, APPEND, MGET/MSET.
extension CommandExecutor {
    static let stringCommands: [CommandSpec] = [
        CommandSpec("get", arity: 2, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            let value = try e.value(c, c.arguments[1])
            return e.read(try e.stringReply(value))
        },
        CommandSpec("set", arity: -3, flags: ["write", "denyoom"], keys: (1, 1, 1)) { e, c in
            try e.set(&c)
        },
        CommandSpec("setnx", arity: 3, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in
            let (created, commit) = try e.write(c) { txn in
                if txn.contains(c.arguments[1]) { return false }
                try txn.set(c.arguments[1], value: c.arguments[2])
                return true
            }
            return e.wrote(.integer(created ? 1 : 0), commit)
        },
        CommandSpec("setex", arity: 4, flags: ["write", "denyoom"], keys: (1, 1, 1)) { e, c in
            try e.setWithExpiry(&c, unitMillis: 1_000)
        },
        CommandSpec("psetex", arity: 4, flags: ["write", "denyoom"], keys: (1, 1, 1)) { e, c in
            try e.setWithExpiry(&c, unitMillis: 1)
        },
        CommandSpec("getset", arity: 3, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in
            let (old, commit) = try e.write(c) { txn in
                let old = try txn.get(c.arguments[1])
                try CommandExecutor.requireString(old)
                try txn.set(c.arguments[1], value: c.arguments[2])
                return old
            }
            return e.wrote(try e.stringReply(old), commit)
        },
        CommandSpec("getdel", arity: 2, flags: ["write", "fast"], keys: (1, 1, 1)) { e, c in
            let (old, commit) = try e.write(c) { txn in
                let old = try txn.get(c.arguments[1])
                try CommandExecutor.requireString(old)
                if old != nil { _ = txn.delete(c.arguments[1]) }
                return old
            }
            return e.wrote(try e.stringReply(old), commit)
        },
        CommandSpec("mget", arity: -2, flags: ["readonly", "fast"], keys: (1, -1, 1)) { e, c in
            var replies: [RESPValue] = []
            replies.reserveCapacity(c.arguments.count - 1)
            for key in c.arguments.dropFirst() {
                let value = try e.value(c, key)
                // MGET answers nil for a key of another type rather than failing.
                if let value, value.metadata.type == .string {
                    e.statistics.keyspaceHits.add()
                    replies.append(.bulkString(value.bytes))
                } else {
                    e.statistics.keyspaceMisses.add()
                    replies.append(.null)
                }
            }
            return e.read(.array(replies))
        },
        CommandSpec("mset", arity: -3, flags: ["write", "denyoom"], keys: (1, -1, 2)) { e, c in
            guard c.arguments.count % 2 == 1 else { throw CommandError.wrongArity("mset") }
            let arguments = c.arguments
            let (_, commit) = try e.write(c) { txn in
                var index = 1
                while index < arguments.count {
                    try txn.set(arguments[index], value: arguments[index + 1])
                    index += 2
                }
            }
            return e.wrote(.simpleString("OK"), commit)
        },
        CommandSpec("msetnx", arity: -3, flags: ["write", "denyoom"], keys: (1, -1, 2)) { e, c in
            guard c.arguments.count % 2 == 1 else { throw CommandError.wrongArity("msetnx") }
            let arguments = c.arguments
            let (done, commit) = try e.write(c) { txn in
                var index = 1
                while index < arguments.count {
                    if txn.contains(arguments[index]) { return false }
                    index += 2
                }
                index = 1
                while index < arguments.count {
                    try txn.set(arguments[index], value: arguments[index + 1])
                    index += 2
                }
                return true
            }
            return e.wrote(.integer(done ? 1 : 0), commit)
        },
        CommandSpec("incr", arity: 2, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in try e.increment(&c, by: 1)
        },
        CommandSpec("decr", arity: 2, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in try e.increment(&c, by: -1)
        },
        CommandSpec("incrby", arity: 3, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in try e.increment(&c, by: try c.integer(2))
        },
        CommandSpec("decrby", arity: 3, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in
            let amount = try c.integer(2)
            guard amount != Int64.min else { throw CommandError.overflow }
            return try e.increment(&c, by: -amount)
        },
        CommandSpec("append", arity: 3, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in
            let (length, commit) = try e.write(c) { txn in
                let old = try txn.get(c.arguments[1])
                try CommandExecutor.requireString(old)
                let combined = (old?.bytes ?? []) + c.arguments[2]
                guard combined.count <= e.configuration.bulkBytesMax else {
                    throw CommandError(
                        "ERR string exceeds maximum allowed size (proto-max-bulk-len)")
                }
                // APPEND keeps the key's time to live, as in Redis.
                try txn.set(
                    c.arguments[1], value: combined,
                    expiresAtMillis: old?.metadata.expiresAtMillis ?? 0)
                return combined.count
            }
            return e.wrote(.integer(Int64(length)), commit)
        },
        CommandSpec("strlen", arity: 2, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            let value = try e.value(c, c.arguments[1])
            try CommandExecutor.requireString(value?.metadata)
            return e.read(.integer(Int64(value?.bytes.count ?? 0)))
        },
    ]

    /// Throws WRONGTYPE unless the value is absent or a string.
    static func requireString(_ value: StoredValue?) throws {
        try requireString(value?.metadata)
    }

    /// Throws WRONGTYPE unless the version is absent or a string.
    static func requireString(_ metadata: VersionMetadata?) throws {
        if let metadata, metadata.type != .string { throw CommandError.wrongType }
    }

    /// A bulk string or null reply for a string read, counting hits and misses.
    func stringReply(_ value: StoredValue?) throws -> RESPValue {
        try CommandExecutor.requireString(value)
        guard let value else {
            statistics.keyspaceMisses.add()
            return .null
        }
        statistics.keyspaceHits.add()
        return .bulkString(value.bytes)
    }

    /// Absolute expiry for a relative `amount` in `unitMillis`, or an error when it is not
    /// positive or overflows, as Redis reports it.
    static func expiry(
        nowMillis: UInt64, amount: Int64, unitMillis: Int64, absolute: Bool, command: String
    ) throws -> UInt64 {
        guard amount > 0 else { throw CommandError.invalidExpireTime(command) }
        let (millis, overflow) = amount.multipliedReportingOverflow(by: unitMillis)
        guard !overflow else { throw CommandError.invalidExpireTime(command) }
        if absolute { return UInt64(millis) }
        let (at, overflowAdd) = UInt64(millis).addingReportingOverflow(nowMillis)
        guard !overflowAdd, at < UInt64(Int64.max) else {
            throw CommandError.invalidExpireTime(command)
        }
        return at
    }

    /// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL]
    func set(_ c: inout CommandContext) throws -> CommandOutcome {
        var onlyIfAbsent = false
        var onlyIfPresent = false
        var returnOld = false
        var keepTTL = false
        var expiresAt: UInt64 = 0
        var expirySeen = false
        var index = 3
        while index < c.arguments.count {
            let option = c.option(index)
            switch option {
            case "NX" where !onlyIfPresent: onlyIfAbsent = true
            case "XX" where !onlyIfAbsent: onlyIfPresent = true
            case "GET": returnOld = true
            case "KEEPTTL" where !expirySeen:
                keepTTL = true
                expirySeen = true
            case "EX", "PX", "EXAT", "PXAT":
                guard !expirySeen, index + 1 < c.arguments.count else { throw CommandError.syntax }
                expirySeen = true
                let amount = try c.integer(index + 1)
                expiresAt = try CommandExecutor.expiry(
                    nowMillis: c.nowMillis, amount: amount,
                    unitMillis: option.hasPrefix("E") ? 1_000 : 1,
                    absolute: option.hasSuffix("AT"), command: "set")
                index += 1
            default: throw CommandError.syntax
            }
            index += 1
        }
        let key = c.arguments[1]
        let value = c.arguments[2]
        let (result, commit) = try write(c) {
            txn -> (applied: Bool, old: StoredValue?) in
            // A plain SET replaces whatever is there without looking: only NX, XX, KEEPTTL
            // and GET need the old version's metadata (from the index), and only GET its
            // bytes (from disk).
            let needsOld = onlyIfAbsent || onlyIfPresent || keepTTL || returnOld
            let oldMetadata = needsOld ? txn.metadata(key) : nil
            let old = returnOld ? try txn.get(key) : nil
            if returnOld { try CommandExecutor.requireString(oldMetadata) }
            if onlyIfAbsent && oldMetadata != nil { return (false, old) }
            if onlyIfPresent && oldMetadata == nil { return (false, old) }
            let expiry = keepTTL ? (oldMetadata?.expiresAtMillis ?? 0) : expiresAt
            try txn.set(key, value: value, expiresAtMillis: expiry)
            return (true, old)
        }
        if returnOld {
            return wrote(try stringReply(result.old), commit)
        }
        return wrote(result.applied ? .simpleString("OK") : .null, commit)
    }

    /// SETEX / PSETEX key amount value
    func setWithExpiry(_ c: inout CommandContext, unitMillis: Int64) throws -> CommandOutcome {
        let name = unitMillis == 1 ? "psetex" : "setex"
        let expiresAt = try CommandExecutor.expiry(
            nowMillis: c.nowMillis, amount: try c.integer(2), unitMillis: unitMillis,
            absolute: false, command: name)
        let key = c.arguments[1]
        let value = c.arguments[3]
        let (_, commit) = try write(c) { txn in
            try txn.set(key, value: value, expiresAtMillis: expiresAt)
        }
        return wrote(.simpleString("OK"), commit)
    }

    /// INCR / DECR / INCRBY / DECRBY: the stored string must be a 64-bit integer; the key's
    /// time to live is kept.
    func increment(_ c: inout CommandContext, by amount: Int64) throws -> CommandOutcome {
        let key = c.arguments[1]
        let (result, commit) = try write(c) { txn in
            let old = try txn.get(key)
            try CommandExecutor.requireString(old)
            var current: Int64 = 0
            if let old {
                guard let parsed = Int64(redisBytes: old.bytes) else {
                    throw CommandError.notInteger
                }
                current = parsed
            }
            let (sum, overflow) = current.addingReportingOverflow(amount)
            guard !overflow else { throw CommandError.overflow }
            try txn.set(
                key, value: sum.redisBytes, expiresAtMillis: old?.metadata.expiresAtMillis ?? 0)
            return sum
        }
        return wrote(.integer(result), commit)
    }
}
