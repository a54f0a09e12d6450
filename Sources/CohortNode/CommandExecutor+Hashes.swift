import CohortCore
import CohortStorage

/// Hash commands. A hash is a collection (see `CollectionHandle`): each field is one element
/// record, so HSET on a hash of a million fields writes what it writes on an empty one.
extension CommandExecutor {
    static let hashCommands: [CommandSpec] = [
        CommandSpec("hset", arity: -4, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in
            guard c.arguments.count % 2 == 0 else { throw CommandError.wrongArity("hset") }
            let added = try e.setFields(&c)
            return e.wrote(.integer(Int64(added.count)), added.commit)
        },
        CommandSpec("hmset", arity: -4, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in
            guard c.arguments.count % 2 == 0 else { throw CommandError.wrongArity("hmset") }
            let added = try e.setFields(&c)
            return e.wrote(.simpleString("OK"), added.commit)
        },
        CommandSpec("hsetnx", arity: 4, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in
            let (key, field, value) = (c.arguments[1], c.arguments[2], c.arguments[3])
            let (added, commit) = try e.write(c) { txn in
                var hash = try existingOrNew(&txn, key, .hash)
                if txn.hasElement(field, of: hash) { return false }
                try txn.putElement(field, value: value, in: &hash)
                try txn.saveCollection(hash)
                return true
            }
            return e.wrote(.integer(added ? 1 : 0), commit)
        },
        CommandSpec("hget", arity: 3, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            try e.readCollection(c) { txn in
                guard let hash = try existing(txn, c.arguments[1], .hash),
                    let value = try txn.element(c.arguments[2], of: hash)
                else { return .null }
                return .bulkString(value)
            }
        },
        CommandSpec("hmget", arity: -3, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            try e.readCollection(c) { txn in
                let hash = try existing(txn, c.arguments[1], .hash)
                return .array(
                    try c.arguments[2...].map { field in
                        guard let hash, let value = try txn.element(field, of: hash) else {
                            return .null
                        }
                        return .bulkString(value)
                    })
            }
        },
        CommandSpec("hgetall", arity: 2, flags: ["readonly"], keys: (1, 1, 1)) { e, c in
            try e.readCollection(c) { txn in
                guard let hash = try existing(txn, c.arguments[1], .hash) else { return .map([]) }
                return .map(
                    try allElements(txn, hash).map {
                        (.bulkString($0.element), .bulkString($0.value))
                    })
            }
        },
        CommandSpec("hkeys", arity: 2, flags: ["readonly"], keys: (1, 1, 1)) { e, c in
            try e.readCollection(c) { txn in
                guard let hash = try existing(txn, c.arguments[1], .hash) else { return .array([]) }
                return .array(try allElements(txn, hash).map { .bulkString($0.element) })
            }
        },
        CommandSpec("hvals", arity: 2, flags: ["readonly"], keys: (1, 1, 1)) { e, c in
            try e.readCollection(c) { txn in
                guard let hash = try existing(txn, c.arguments[1], .hash) else { return .array([]) }
                return .array(try allElements(txn, hash).map { .bulkString($0.value) })
            }
        },
        CommandSpec("hdel", arity: -3, flags: ["write", "fast"], keys: (1, 1, 1)) { e, c in
            try e.removeNamed(&c, .hash) { txn, element, collection in
                txn.removeElement(element, from: &collection)
            }
        },
        CommandSpec("hscan", arity: -3, flags: ["readonly"], keys: (1, 1, 1)) { e, c in
            try e.scanElements(&c, .hash)
        },
        CommandSpec("hexists", arity: 3, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            try e.readCollection(c) { txn in
                guard let hash = try existing(txn, c.arguments[1], .hash) else {
                    return .integer(0)
                }
                return .integer(txn.hasElement(c.arguments[2], of: hash) ? 1 : 0)
            }
        },
        CommandSpec("hlen", arity: 2, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            try e.readCollection(c) { txn in
                .integer(Int64(try existing(txn, c.arguments[1], .hash)?.count ?? 0))
            }
        },
        CommandSpec("hstrlen", arity: 3, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            try e.readCollection(c) { txn in
                guard let hash = try existing(txn, c.arguments[1], .hash),
                    let value = try txn.element(c.arguments[2], of: hash)
                else { return .integer(0) }
                return .integer(Int64(value.count))
            }
        },
        CommandSpec("hincrby", arity: 4, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in
            let amount = try c.integer(3)
            let (key, field) = (c.arguments[1], c.arguments[2])
            let (sum, commit) = try e.write(c) { txn in
                var hash = try existingOrNew(&txn, key, .hash)
                var current: Int64 = 0
                if let old = try txn.element(field, of: hash) {
                    guard let parsed = Int64(redisBytes: old) else {
                        throw CommandError("ERR hash value is not an integer")
                    }
                    current = parsed
                }
                let (sum, overflow) = current.addingReportingOverflow(amount)
                guard !overflow else { throw CommandError.overflow }
                try txn.putElement(field, value: sum.redisBytes, in: &hash)
                try txn.saveCollection(hash)
                return sum
            }
            return e.wrote(.integer(sum), commit)
        },
        CommandSpec(
            "hincrbyfloat", arity: 4, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)
        ) { e, c in
            guard let amount = RedisFloat.parse(c.arguments[3]) else {
                throw CommandError("ERR value is not a valid float")
            }
            let (key, field) = (c.arguments[1], c.arguments[2])
            let (text, commit) = try e.write(c) { txn in
                var hash = try existingOrNew(&txn, key, .hash)
                var current = 0.0
                if let old = try txn.element(field, of: hash) {
                    guard let parsed = RedisFloat.parse(old) else {
                        throw CommandError("ERR hash value is not a float")
                    }
                    current = parsed
                }
                let sum = current + amount
                guard sum.isFinite else {
                    throw CommandError("ERR increment would produce NaN or Infinity")
                }
                let text = RedisFloat.format(sum)
                try txn.putElement(field, value: text, in: &hash)
                try txn.saveCollection(hash)
                return text
            }
            return e.wrote(.bulkString(text), commit)
        },
    ]

    /// HSET / HMSET: sets each field-value pair; returns how many fields were new.
    func setFields(_ c: inout CommandContext) throws -> (count: Int, commit: Commit?) {
        let arguments = c.arguments
        let (added, commit) = try write(c) { txn in
            var hash = try CommandExecutor.existingOrNew(&txn, arguments[1], .hash)
            var added = 0
            var index = 2
            while index < arguments.count {
                if try txn.putElement(arguments[index], value: arguments[index + 1], in: &hash) {
                    added += 1
                }
                index += 2
            }
            try txn.saveCollection(hash)
            return added
        }
        return (added, commit)
    }
}
