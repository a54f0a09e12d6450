import CohortCore
import CohortStorage

/// Set commands. A set is a collection (see `CollectionHandle`) whose elements are its members,
/// with empty values.
extension CommandExecutor {
    static let setCommands: [CommandSpec] = [
        CommandSpec("sadd", arity: -3, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in
            let arguments = c.arguments
            let (added, commit) = try e.write(c) { txn in
                var set = try existingOrNew(&txn, arguments[1], .set)
                var added = 0
                for member in arguments[2...] where try txn.putElement(member, value: [], in: &set)
                {
                    added += 1
                }
                try txn.saveCollection(set)
                return added
            }
            return e.wrote(.integer(Int64(added)), commit)
        },
        CommandSpec("srem", arity: -3, flags: ["write", "fast"], keys: (1, 1, 1)) { e, c in
            try e.removeNamed(&c, .set) { txn, element, collection in
                txn.removeElement(element, from: &collection)
            }
        },
        CommandSpec("smembers", arity: 2, flags: ["readonly"], keys: (1, 1, 1)) { e, c in
            try e.readCollection(c) { txn in
                .set(try members(txn, c.arguments[1]).map { .bulkString($0) })
            }
        },
        CommandSpec("sismember", arity: 3, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            try e.readCollection(c) { txn in
                guard let set = try existing(txn, c.arguments[1], .set) else { return .integer(0) }
                return .integer(txn.hasElement(c.arguments[2], of: set) ? 1 : 0)
            }
        },
        CommandSpec("smismember", arity: -3, flags: ["readonly", "fast"], keys: (1, 1, 1)) {
            e, c in
            try e.readCollection(c) { txn in
                let set = try existing(txn, c.arguments[1], .set)
                return .array(
                    c.arguments[2...].map { member in
                        .integer(set.map { txn.hasElement(member, of: $0) ? 1 : 0 } ?? 0)
                    })
            }
        },
        CommandSpec("sscan", arity: -3, flags: ["readonly"], keys: (1, 1, 1)) { e, c in
            try e.scanElements(&c, .set)
        },
        CommandSpec("scard", arity: 2, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            try e.readCollection(c) { txn in
                .integer(Int64(try existing(txn, c.arguments[1], .set)?.count ?? 0))
            }
        },
        CommandSpec("smove", arity: 4, flags: ["write", "fast"], keys: (1, 2, 1)) { e, c in
            let (source, destination, member) = (c.arguments[1], c.arguments[2], c.arguments[3])
            let (moved, commit) = try e.write(c) { txn in
                guard var from = try existing(txn, source, .set) else {
                    // Redis checks the destination's type even when the source is absent.
                    _ = try existing(txn, destination, .set)
                    return false
                }
                _ = try existing(txn, destination, .set)
                guard txn.hasElement(member, of: from) else { return false }
                if source == destination { return true }
                txn.removeElement(member, from: &from)
                try txn.saveCollection(from)
                var to = try existingOrNew(&txn, destination, .set)
                try txn.putElement(member, value: [], in: &to)
                try txn.saveCollection(to)
                return true
            }
            return e.wrote(.integer(moved ? 1 : 0), commit)
        },
        CommandSpec("sunion", arity: -2, flags: ["readonly"], keys: (1, -1, 1)) { e, c in
            try e.readCollection(c) { txn in
                .set(try combine(txn, c.arguments[1...], .union).map { .bulkString($0) })
            }
        },
        CommandSpec("sinter", arity: -2, flags: ["readonly"], keys: (1, -1, 1)) { e, c in
            try e.readCollection(c) { txn in
                .set(try combine(txn, c.arguments[1...], .intersection).map { .bulkString($0) })
            }
        },
        CommandSpec("sdiff", arity: -2, flags: ["readonly"], keys: (1, -1, 1)) { e, c in
            try e.readCollection(c) { txn in
                .set(try combine(txn, c.arguments[1...], .difference).map { .bulkString($0) })
            }
        },
        CommandSpec("sunionstore", arity: -3, flags: ["write", "denyoom"], keys: (1, -1, 1)) {
            e, c in try e.storeCombination(&c, .union)
        },
        CommandSpec("sinterstore", arity: -3, flags: ["write", "denyoom"], keys: (1, -1, 1)) {
            e, c in try e.storeCombination(&c, .intersection)
        },
        CommandSpec("sdiffstore", arity: -3, flags: ["write", "denyoom"], keys: (1, -1, 1)) {
            e, c in try e.storeCombination(&c, .difference)
        },
        CommandSpec("sintercard", arity: -3, flags: ["readonly"], keys: (0, 0, 0)) { e, c in
            let count = try c.integer(1)
            guard count > 0 else {
                throw CommandError("ERR numkeys should be greater than 0")
            }
            guard count <= c.arguments.count - 2 else {
                throw CommandError("ERR Number of keys can't be greater than number of args")
            }
            let keys = c.arguments[2..<(2 + Int(count))]
            var limit = 0
            var index = 2 + Int(count)
            while index < c.arguments.count {
                guard c.option(index) == "LIMIT", index + 1 < c.arguments.count else {
                    throw CommandError.syntax
                }
                let parsed = try c.integer(index + 1)
                guard parsed >= 0 else { throw CommandError("ERR LIMIT can't be negative") }
                limit = Int(parsed)
                index += 2
            }
            return try e.readCollection(c) { txn in
                let all = try combine(txn, keys, .intersection).count
                return .integer(Int64(limit == 0 ? all : min(all, limit)))
            }
        },
    ]

    /// How SUNION, SINTER and SDIFF combine their sets.
    enum SetCombination {
        case union, intersection, difference
    }

    /// The members of the set at `key` (none when absent), in byte order.
    static func members(_ txn: StorageTransaction, _ key: [UInt8]) throws -> [[UInt8]] {
        guard let set = try existing(txn, key, .set) else { return [] }
        return try allElements(txn, set).map(\.element)
    }

    /// The members of the sets at `keys` combined, in byte order. Every key must be absent
    /// or a set (WRONGTYPE otherwise), as in Redis.
    static func combine(
        _ txn: StorageTransaction, _ keys: ArraySlice<[UInt8]>, _ how: SetCombination
    ) throws -> [[UInt8]] {
        let sets = try keys.map { try Set(members(txn, $0)) }
        guard var result = sets.first else { return [] }
        for next in sets.dropFirst() {
            switch how {
            case .union: result.formUnion(next)
            case .intersection: result.formIntersection(next)
            case .difference: result.subtract(next)
            }
        }
        return result.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// SUNIONSTORE / SINTERSTORE / SDIFFSTORE destination key...: replaces the destination
    /// with the combination (deletes it when empty); returns its size.
    func storeCombination(
        _ c: inout CommandContext, _ how: SetCombination
    ) throws -> CommandOutcome {
        let arguments = c.arguments
        let (count, commit) = try write(c) { txn in
            let result = try CommandExecutor.combine(txn, arguments[2...], how)
            // The destination is replaced whatever it held, as Redis does.
            txn.delete(arguments[1])
            var set = txn.newCollection(arguments[1], type: .set)
            for member in result { try txn.putElement(member, value: [], in: &set) }
            try txn.saveCollection(set)
            return result.count
        }
        return wrote(.integer(Int64(count)), commit)
    }
}
