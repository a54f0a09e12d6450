import CohortCore
import CohortStorage

/// List commands (the blocking pops are in `CommandExecutor+Blocking`). A list is a collection whose elements
/// are consecutive positions (see `StorageTransaction.pushItem`): pushes and pops at either
/// end and index lookups write or read one element record; LINSERT and LREM rewrite the list,
/// O(n) as in Redis.
extension CommandExecutor {
    static let listCommands: [CommandSpec] = [
        CommandSpec("lpush", arity: -3, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in try e.push(&c, atFront: true, onlyIfExists: false)
        },
        CommandSpec("rpush", arity: -3, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in try e.push(&c, atFront: false, onlyIfExists: false)
        },
        CommandSpec("lpushx", arity: -3, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in try e.push(&c, atFront: true, onlyIfExists: true)
        },
        CommandSpec("rpushx", arity: -3, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in try e.push(&c, atFront: false, onlyIfExists: true)
        },
        CommandSpec("lpop", arity: -2, flags: ["write", "fast"], keys: (1, 1, 1)) { e, c in
            try e.pop(&c, fromFront: true)
        },
        CommandSpec("rpop", arity: -2, flags: ["write", "fast"], keys: (1, 1, 1)) { e, c in
            try e.pop(&c, fromFront: false)
        },
        CommandSpec("llen", arity: 2, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            try e.readCollection(c) { txn in
                .integer(Int64(try existing(txn, c.arguments[1], .list)?.count ?? 0))
            }
        },
        CommandSpec("lindex", arity: 3, flags: ["readonly"], keys: (1, 1, 1)) { e, c in
            let index = try c.integer(2)
            return try e.readCollection(c) { txn in
                guard let list = try existing(txn, c.arguments[1], .list),
                    let resolved = resolve(index, count: list.count),
                    let item = try txn.item(at: resolved, of: list)
                else { return .null }
                return .bulkString(item)
            }
        },
        CommandSpec("lrange", arity: 4, flags: ["readonly"], keys: (1, 1, 1)) { e, c in
            let (start, stop) = (try c.integer(2), try c.integer(3))
            return try e.readCollection(c) { txn in
                guard let list = try existing(txn, c.arguments[1], .list),
                    let range = span(start, stop, count: list.count)
                else { return .array([]) }
                return .array(
                    try txn.items(of: list, from: range.lowerBound, through: range.upperBound)
                        .map { .bulkString($0) })
            }
        },
        CommandSpec("lset", arity: 4, flags: ["write", "denyoom"], keys: (1, 1, 1)) { e, c in
            let index = try c.integer(2)
            let (key, value) = (c.arguments[1], c.arguments[3])
            let (_, commit) = try e.write(c) { txn in
                guard var list = try existing(txn, key, .list) else {
                    throw CommandError("ERR no such key")
                }
                guard let resolved = resolve(index, count: list.count) else {
                    throw CommandError("ERR index out of range")
                }
                try txn.setItem(at: resolved, to: value, in: &list)
                try txn.saveCollection(list)
            }
            return e.wrote(.simpleString("OK"), commit)
        },
        CommandSpec("linsert", arity: 5, flags: ["write", "denyoom"], keys: (1, 1, 1)) { e, c in
            let placement = c.option(2)
            guard placement == "BEFORE" || placement == "AFTER" else { throw CommandError.syntax }
            let (key, pivot, value) = (c.arguments[1], c.arguments[3], c.arguments[4])
            let (length, commit) = try e.write(c) { txn -> Int in
                guard var list = try existing(txn, key, .list) else { return 0 }
                var items = try txn.items(of: list, from: 0, through: list.count - 1)
                guard let found = items.firstIndex(of: pivot) else { return -1 }
                items.insert(value, at: placement == "BEFORE" ? found : found + 1)
                try txn.replaceItems(items, of: &list)
                try txn.saveCollection(list)
                return list.count
            }
            return e.wrote(.integer(Int64(length)), commit)
        },
        CommandSpec("lrem", arity: 4, flags: ["write"], keys: (1, 1, 1)) { e, c in
            let count = try c.integer(2)
            let (key, value) = (c.arguments[1], c.arguments[3])
            let (removed, commit) = try e.write(c) { txn -> Int in
                guard var list = try existing(txn, key, .list) else { return 0 }
                let items = try txn.items(of: list, from: 0, through: list.count - 1)
                // Which occurrences go: the first |count| from the head (count > 0) or the
                // tail (count < 0), or all of them (0).
                var matches = items.indices.filter { items[$0] == value }
                if count > 0 { matches = Array(matches.prefix(Int(min(count, Int64(Int.max))))) }
                if count < 0 {
                    matches = Array(matches.suffix(Int(min(count.magnitude, UInt64(Int.max)))))
                }
                guard !matches.isEmpty else { return 0 }
                let gone = Set(matches)
                let kept = items.indices.filter { !gone.contains($0) }.map { items[$0] }
                try txn.replaceItems(kept, of: &list)
                try txn.saveCollection(list)
                return matches.count
            }
            return e.wrote(.integer(Int64(removed)), commit)
        },
        CommandSpec("ltrim", arity: 4, flags: ["write"], keys: (1, 1, 1)) { e, c in
            let (start, stop) = (try c.integer(2), try c.integer(3))
            let key = c.arguments[1]
            let (_, commit) = try e.write(c) { txn in
                guard var list = try existing(txn, key, .list) else { return }
                if let range = span(start, stop, count: list.count) {
                    txn.trimItems(
                        front: range.lowerBound, back: list.count - 1 - range.upperBound,
                        of: &list)
                } else {
                    txn.trimItems(front: list.count, back: 0, of: &list)
                }
                try txn.saveCollection(list)
            }
            return e.wrote(.simpleString("OK"), commit)
        },
        CommandSpec("lpos", arity: -3, flags: ["readonly"], keys: (1, 1, 1)) { e, c in
            try e.position(&c)
        },
        CommandSpec("lmove", arity: 5, flags: ["write", "denyoom"], keys: (1, 2, 1)) { e, c in
            let from = c.option(3)
            let to = c.option(4)
            guard ["LEFT", "RIGHT"].contains(from), ["LEFT", "RIGHT"].contains(to) else {
                throw CommandError.syntax
            }
            return try e.move(&c, fromFront: from == "LEFT", toFront: to == "LEFT")
        },
        CommandSpec("rpoplpush", arity: 3, flags: ["write", "denyoom"], keys: (1, 2, 1)) {
            e, c in try e.move(&c, fromFront: false, toFront: true)
        },
    ]

    /// A Redis list index (negative from the end) as a position from the head; nil when out
    /// of range.
    static func resolve(_ index: Int64, count: Int) -> Int? {
        let resolved = index < 0 ? Int64(count) + index : index
        guard resolved >= 0, resolved < Int64(count) else { return nil }
        return Int(resolved)
    }

    /// LRANGE's and LTRIM's start and stop, resolved and clamped as Redis does; nil when the
    /// range is empty.
    static func span(_ start: Int64, _ stop: Int64, count: Int) -> ClosedRange<Int>? {
        let length = Int64(count)
        var first = start < 0 ? max(length + start, 0) : start
        var last = stop < 0 ? length + stop : stop
        if last >= length { last = length - 1 }
        guard first <= last, first < length, last >= 0 else { return nil }
        first = max(first, 0)
        return Int(first)...Int(last)
    }

    /// LPUSH / RPUSH / LPUSHX / RPUSHX: the list's new length.
    func push(_ c: inout CommandContext, atFront: Bool, onlyIfExists: Bool) throws
        -> CommandOutcome
    {
        let arguments = c.arguments
        let (length, commit) = try write(c) { txn -> Int in
            guard var list = try CommandExecutor.existing(txn, arguments[1], .list) else {
                if onlyIfExists { return 0 }
                var list = txn.newCollection(arguments[1], type: .list)
                for value in arguments[2...] {
                    try txn.pushItem(value, atFront: atFront, to: &list)
                }
                try txn.saveCollection(list)
                return list.count
            }
            for value in arguments[2...] { try txn.pushItem(value, atFront: atFront, to: &list) }
            try txn.saveCollection(list)
            return list.count
        }
        return wrote(.integer(Int64(length)), commit)
    }

    /// LPOP / RPOP key [count]: the item, or with a count an array of at most that many.
    func pop(_ c: inout CommandContext, fromFront: Bool) throws -> CommandOutcome {
        guard c.arguments.count <= 3 else { throw CommandError.syntax }
        var count: Int?
        if c.arguments.count == 3 {
            let parsed = try c.integer(2)
            guard parsed >= 0 else {
                throw CommandError("ERR value is out of range, must be positive")
            }
            count = Int(min(parsed, Int64(Int.max)))
        }
        let key = c.arguments[1]
        let (reply, commit) = try write(c) { txn -> RESPValue in
            guard var list = try CommandExecutor.existing(txn, key, .list) else {
                return count == nil ? .null : .nullArray
            }
            var popped: [RESPValue] = []
            for _ in 0..<min(count ?? 1, list.count) {
                guard let item = try txn.popItem(fromFront: fromFront, of: &list) else { break }
                popped.append(.bulkString(item))
            }
            try txn.saveCollection(list)
            return count == nil ? (popped.first ?? .null) : .array(popped)
        }
        return wrote(reply, commit)
    }

    /// LMOVE / RPOPLPUSH source destination: pops from one end of the source and pushes at
    /// one end of the destination (which may be the source); the item moved, or null.
    func move(_ c: inout CommandContext, fromFront: Bool, toFront: Bool) throws -> CommandOutcome {
        let (source, destination) = (c.arguments[1], c.arguments[2])
        let (moved, commit) = try write(c) { txn -> [UInt8]? in
            guard var from = try CommandExecutor.existing(txn, source, .list) else { return nil }
            // The destination's type is checked before anything moves, as in Redis.
            _ = try CommandExecutor.existing(txn, destination, .list)
            guard let item = try txn.popItem(fromFront: fromFront, of: &from) else { return nil }
            try txn.saveCollection(from)
            var to = try CommandExecutor.existingOrNew(&txn, destination, .list)
            try txn.pushItem(item, atFront: toFront, to: &to)
            try txn.saveCollection(to)
            return item
        }
        return wrote(moved.map { .bulkString($0) } ?? .null, commit)
    }

    /// LPOS key element [RANK rank] [COUNT count] [MAXLEN len].
    func position(_ c: inout CommandContext) throws -> CommandOutcome {
        var rank: Int64 = 1
        var count: Int64?
        var maxLength: Int64 = 0
        var index = 3
        while index < c.arguments.count {
            guard index + 1 < c.arguments.count else { throw CommandError.syntax }
            let value = try c.integer(index + 1)
            switch c.option(index) {
            case "RANK":
                guard value != 0, value != Int64.min else {
                    throw CommandError(
                        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                            + "second ... or use negative to start from the end of the list")
                }
                rank = value
            case "COUNT":
                guard value >= 0 else { throw CommandError("ERR COUNT can't be negative") }
                count = value
            case "MAXLEN":
                guard value >= 0 else { throw CommandError("ERR MAXLEN can't be negative") }
                maxLength = value
            default: throw CommandError.syntax
            }
            index += 2
        }
        let (key, wanted) = (c.arguments[1], c.arguments[2])
        return try readCollection(c) { txn in
            guard let list = try CommandExecutor.existing(txn, key, .list) else {
                return count == nil ? .null : .array([])
            }
            let scanned = maxLength == 0 ? list.count : min(list.count, Int(maxLength))
            let order: [Int] =
                rank > 0
                ? Array(0..<scanned) : Array(((list.count - scanned)..<list.count).reversed())
            var skip = Int(min(rank.magnitude, UInt64(Int.max))) - 1
            var found: [RESPValue] = []
            let limit = count.map { $0 == 0 ? Int.max : Int(min($0, Int64(Int.max))) } ?? 1
            for position in order where found.count < limit {
                guard try txn.item(at: position, of: list) == wanted else { continue }
                if skip > 0 {
                    skip -= 1
                    continue
                }
                found.append(.integer(Int64(position)))
            }
            if count == nil { return found.first ?? .null }
            return .array(found)
        }
    }
}
