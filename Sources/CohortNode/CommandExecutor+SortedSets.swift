import CohortCore
import CohortStorage

/// Sorted-set commands. A sorted set is a collection holding each member twice (by member, with
/// its score, and in score order; see `SortedSetElement`), so ZSCORE is a lookup, ZADD writes a
/// few small records whatever the size, and score ranges walk the index from their minimum.
/// Ranks are counted by walking from the lowest score: ZRANK and ZRANGE by rank are O(rank),
/// where Redis's skip list is O(log n).
extension CommandExecutor {
    static let sortedSetCommands: [CommandSpec] = [
        CommandSpec("zadd", arity: -4, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in try e.zadd(&c)
        },
        CommandSpec("zincrby", arity: 4, flags: ["write", "denyoom", "fast"], keys: (1, 1, 1)) {
            e, c in
            guard let increment = RedisFloat.parse(c.arguments[2]) else {
                throw CommandError("ERR value is not a valid float")
            }
            let (key, member) = (c.arguments[1], c.arguments[3])
            let (score, commit) = try e.write(c) { txn -> Double in
                var zset = try existingOrNew(&txn, key, .zset)
                let score = (try txn.score(of: member, in: zset) ?? 0) + increment
                guard !score.isNaN else {
                    throw CommandError("ERR resulting score is not a number (NaN)")
                }
                try txn.setScore(score, of: member, in: &zset)
                try txn.saveCollection(zset)
                return score
            }
            return e.wrote(.double(score), commit)
        },
        CommandSpec("zrem", arity: -3, flags: ["write", "fast"], keys: (1, 1, 1)) { e, c in
            try e.removeNamed(&c, .zset) { txn, member, zset in
                try txn.removeMember(member, from: &zset)
            }
        },
        CommandSpec("zscore", arity: 3, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            try e.readCollection(c) { txn in
                guard let zset = try existing(txn, c.arguments[1], .zset),
                    let score = try txn.score(of: c.arguments[2], in: zset)
                else { return .null }
                return .double(score)
            }
        },
        CommandSpec("zmscore", arity: -3, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            try e.readCollection(c) { txn in
                let zset = try existing(txn, c.arguments[1], .zset)
                return .array(
                    try c.arguments[2...].map { member in
                        guard let zset, let score = try txn.score(of: member, in: zset) else {
                            return .null
                        }
                        return .double(score)
                    })
            }
        },
        CommandSpec("zcard", arity: 2, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            try e.readCollection(c) { txn in
                .integer(Int64(try existing(txn, c.arguments[1], .zset)?.count ?? 0))
            }
        },
        CommandSpec("zcount", arity: 4, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            let range = try ScoreRange(c.arguments[2], c.arguments[3])
            return try e.readCollection(c) { txn in
                guard let zset = try existing(txn, c.arguments[1], .zset) else {
                    return .integer(0)
                }
                return .integer(Int64(try inRange(txn, zset, range).count))
            }
        },
        CommandSpec("zrank", arity: -3, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            try e.rank(&c, reverse: false)
        },
        CommandSpec("zrevrank", arity: -3, flags: ["readonly", "fast"], keys: (1, 1, 1)) { e, c in
            try e.rank(&c, reverse: true)
        },
        CommandSpec("zrange", arity: -4, flags: ["readonly"], keys: (1, 1, 1)) { e, c in
            try e.zrange(&c, by: nil, reverse: false, optionsFrom: 4)
        },
        CommandSpec("zrangebyscore", arity: -4, flags: ["readonly"], keys: (1, 1, 1)) { e, c in
            try e.zrange(&c, by: .score, reverse: false, optionsFrom: 4)
        },
        CommandSpec("zrevrangebyscore", arity: -4, flags: ["readonly"], keys: (1, 1, 1)) {
            e, c in try e.zrange(&c, by: .score, reverse: true, optionsFrom: 4)
        },
        CommandSpec("zrangebylex", arity: -4, flags: ["readonly"], keys: (1, 1, 1)) { e, c in
            try e.zrange(&c, by: .lex, reverse: false, optionsFrom: 4)
        },
        CommandSpec("zpopmin", arity: -2, flags: ["write", "fast"], keys: (1, 1, 1)) { e, c in
            try e.zpop(&c, highest: false)
        },
        CommandSpec("zpopmax", arity: -2, flags: ["write", "fast"], keys: (1, 1, 1)) { e, c in
            try e.zpop(&c, highest: true)
        },
        CommandSpec("zremrangebyscore", arity: 4, flags: ["write"], keys: (1, 1, 1)) { e, c in
            let range = try ScoreRange(c.arguments[2], c.arguments[3])
            return try e.removeMembers(&c) { txn, zset in try inRange(txn, zset, range) }
        },
        CommandSpec("zremrangebyrank", arity: 4, flags: ["write"], keys: (1, 1, 1)) { e, c in
            let (start, stop) = (try c.integer(2), try c.integer(3))
            return try e.removeMembers(&c) { txn, zset in
                guard let span = span(start, stop, count: zset.count) else { return [] }
                return Array(try ordered(txn, zset)[span])
            }
        },
        CommandSpec("zscan", arity: -3, flags: ["readonly"], keys: (1, 1, 1)) { e, c in
            try e.scanElements(&c, .zset)
        },
    ]

    /// A score interval as ZCOUNT and ZRANGEBYSCORE take it: `1.5`, `(1.5` (exclusive),
    /// `-inf`, `+inf`.
    struct ScoreRange {
        var minimum: Double
        var minimumExclusive = false
        var maximum: Double
        var maximumExclusive = false

        init(_ minimum: [UInt8], _ maximum: [UInt8]) throws {
            (self.minimum, minimumExclusive) = try Self.bound(minimum)
            (self.maximum, maximumExclusive) = try Self.bound(maximum)
        }

        static func bound(_ bytes: [UInt8]) throws -> (Double, Bool) {
            let exclusive = bytes.first == UInt8(ascii: "(")
            guard let value = RedisFloat.parse(exclusive ? Array(bytes.dropFirst()) : bytes) else {
                throw CommandError("ERR min or max is not a float")
            }
            return (value, exclusive)
        }

        func isAboveMinimum(_ score: Double) -> Bool {
            minimumExclusive ? score > minimum : score >= minimum
        }

        func isBelowMaximum(_ score: Double) -> Bool {
            maximumExclusive ? score < maximum : score <= maximum
        }
    }

    /// A member interval as ZRANGEBYLEX takes it: `[a` (inclusive), `(a` (exclusive), `-`, `+`.
    struct LexRange {
        /// nil: unbounded.
        var minimum: (member: [UInt8], exclusive: Bool)?
        var maximum: (member: [UInt8], exclusive: Bool)?

        init(_ minimum: [UInt8], _ maximum: [UInt8]) throws {
            self.minimum = try Self.bound(minimum, unbounded: UInt8(ascii: "-"))
            self.maximum = try Self.bound(maximum, unbounded: UInt8(ascii: "+"))
        }

        static func bound(_ bytes: [UInt8], unbounded: UInt8) throws -> ([UInt8], Bool)? {
            if bytes == [unbounded] { return nil }
            guard let first = bytes.first, first == UInt8(ascii: "[") || first == UInt8(ascii: "(")
            else { throw CommandError("ERR min or max not valid string range item") }
            return (Array(bytes.dropFirst()), first == UInt8(ascii: "("))
        }

        func contains(_ member: [UInt8]) -> Bool {
            if let minimum {
                let order = OrderedBytes.compare(member, minimum.member)
                if order < 0 || (order == 0 && minimum.exclusive) { return false }
            }
            if let maximum {
                let order = OrderedBytes.compare(member, maximum.member)
                if order > 0 || (order == 0 && maximum.exclusive) { return false }
            }
            return true
        }
    }

    enum RangeKind { case score, lex }

    /// Every member of `zset` with its score, in score order.
    static func ordered(
        _ txn: StorageTransaction, _ zset: CollectionHandle
    ) throws -> [(member: [UInt8], score: Double)] {
        var all: [(member: [UInt8], score: Double)] = []
        all.reserveCapacity(zset.count)
        try txn.forEachByScore(of: zset) { member, score in
            all.append((member, score))
            return true
        }
        return all
    }

    /// The member with the lowest (or highest) score, ties broken by member as ZPOPMIN and
    /// ZPOPMAX break them; nil for an empty set. The lowest is the first in score order; the
    /// highest needs a walk of the whole set (the index has no backward walk yet).
    static func extreme(
        _ txn: StorageTransaction, _ zset: CollectionHandle, highest: Bool
    ) throws -> (member: [UInt8], score: Double)? {
        var found: (member: [UInt8], score: Double)?
        try txn.forEachByScore(of: zset) { member, score in
            found = (member, score)
            return highest
        }
        return found
    }

    /// The members of `zset` whose scores lie in `range`, in score order.
    static func inRange(
        _ txn: StorageTransaction, _ zset: CollectionHandle, _ range: ScoreRange
    ) throws -> [(member: [UInt8], score: Double)] {
        var found: [(member: [UInt8], score: Double)] = []
        guard !range.minimum.isNaN, !range.maximum.isNaN else { return found }
        try txn.forEachByScore(of: zset, from: range.minimum) { member, score in
            guard range.isBelowMaximum(score) else { return false }
            if range.isAboveMinimum(score) { found.append((member, score)) }
            return true
        }
        return found
    }

    /// The reply for `members`: the members alone, or with their scores (flat in RESP2,
    /// pairs in RESP3, as Redis 7 answers).
    static func reply(
        _ members: [(member: [UInt8], score: Double)], withScores: Bool, _ version: RESPVersion
    ) -> RESPValue {
        guard withScores else { return .array(members.map { .bulkString($0.member) }) }
        if version == .resp3 {
            return .array(members.map { .array([.bulkString($0.member), .double($0.score)]) })
        }
        return .array(members.flatMap { [RESPValue.bulkString($0.member), .double($0.score)] })
    }

    /// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
    func zadd(_ c: inout CommandContext) throws -> CommandOutcome {
        var (nx, xx, gt, lt, ch, incr) = (false, false, false, false, false, false)
        // Options come first and end at the first argument that is not one.
        var index = 2
        optionLoop: while index < c.arguments.count {
            switch c.option(index) {
            case "NX": nx = true
            case "XX": xx = true
            case "GT": gt = true
            case "LT": lt = true
            case "CH": ch = true
            case "INCR": incr = true
            default: break optionLoop
            }
            index += 1
        }
        let pairs = c.arguments[index...]
        guard !pairs.isEmpty, pairs.count % 2 == 0 else { throw CommandError.syntax }
        if nx && xx {
            throw CommandError("ERR XX and NX options at the same time are not compatible")
        }
        if (gt && lt) || (nx && (gt || lt)) {
            throw CommandError("ERR GT, LT, and/or NX options at the same time are not compatible")
        }
        if incr && pairs.count > 2 {
            throw CommandError("ERR INCR option supports a single increment-element pair")
        }
        var updates: [(score: Double, member: [UInt8])] = []
        var position = pairs.startIndex
        while position < pairs.endIndex {
            guard let score = RedisFloat.parse(pairs[position]) else {
                throw CommandError("ERR value is not a valid float")
            }
            updates.append((score, pairs[position + 1]))
            position += 2
        }
        let key = c.arguments[1]
        let (reply, commit) = try write(c) { txn -> RESPValue in
            var zset = try CommandExecutor.existingOrNew(&txn, key, .zset)
            var (added, changed) = (0, 0)
            var result: Double?
            for (given, member) in updates {
                let old = try txn.score(of: member, in: zset)
                if (nx && old != nil) || (xx && old == nil) { continue }
                var score = given
                if incr {
                    score = (old ?? 0) + given
                    guard !score.isNaN else {
                        throw CommandError("ERR resulting score is not a number (NaN)")
                    }
                }
                if let old, (gt && score <= old) || (lt && score >= old) { continue }
                result = score
                if old == nil {
                    added += 1
                } else if old != score {
                    changed += 1
                }
                try txn.setScore(score, of: member, in: &zset)
            }
            try txn.saveCollection(zset)
            if incr { return result.map { .double($0) } ?? .null }
            return .integer(Int64(ch ? added + changed : added))
        }
        return wrote(reply, commit)
    }

    /// ZRANK / ZREVRANK key member [WITHSCORE]
    func rank(_ c: inout CommandContext, reverse: Bool) throws -> CommandOutcome {
        guard c.arguments.count <= 4 else { throw CommandError.syntax }
        let withScore = c.arguments.count == 4
        if withScore && c.option(3) != "WITHSCORE" { throw CommandError.syntax }
        let (key, member) = (c.arguments[1], c.arguments[2])
        return try readCollection(c) { txn in
            guard let zset = try CommandExecutor.existing(txn, key, .zset),
                let score = try txn.score(of: member, in: zset)
            else { return withScore ? .nullArray : .null }
            var rank = 0
            try txn.forEachByScore(of: zset) { next, _ in
                if next == member { return false }
                rank += 1
                return true
            }
            if reverse { rank = zset.count - 1 - rank }
            return withScore
                ? .array([.integer(Int64(rank)), .double(score)]) : .integer(Int64(rank))
        }
    }

    /// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES], and the
    /// older ZRANGEBYSCORE / ZREVRANGEBYSCORE / ZRANGEBYLEX (`by` given, options after the
    /// range).
    func zrange(
        _ c: inout CommandContext, by given: RangeKind?, reverse givenReverse: Bool,
        optionsFrom first: Int
    ) throws -> CommandOutcome {
        var by = given
        var reverse = givenReverse
        var withScores = false
        var limit: (offset: Int, count: Int)?
        var index = first
        while index < c.arguments.count {
            switch c.option(index) {
            case "BYSCORE" where given == nil: by = .score
            case "BYLEX" where given == nil: by = .lex
            case "REV" where given == nil: reverse = true
            case "WITHSCORES" where given != .lex: withScores = true
            case "LIMIT":
                guard index + 2 < c.arguments.count else { throw CommandError.syntax }
                let (offset, count) = (try c.integer(index + 1), try c.integer(index + 2))
                limit = (
                    Int(clamping: offset),
                    count < 0 ? Int.max : Int(clamping: count)
                )
                index += 2
            default: throw CommandError.syntax
            }
            index += 1
        }
        if limit != nil && by == nil {
            throw CommandError(
                "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
            )
        }
        if withScores && by == .lex {
            throw CommandError(
                "ERR syntax error, WITHSCORES not supported in combination with BYLEX")
        }
        // With REV the range is given highest first.
        let (low, high) =
            reverse ? (c.arguments[3], c.arguments[2]) : (c.arguments[2], c.arguments[3])
        let key = c.arguments[1]
        let version = c.session.protocolVersion
        let startStop = by == nil ? (try c.integer(2), try c.integer(3)) : (0, 0)
        let scores = by == .score ? try ScoreRange(low, high) : nil
        let lex = by == .lex ? try LexRange(low, high) : nil
        return try readCollection(c) { txn in
            guard let zset = try CommandExecutor.existing(txn, key, .zset) else {
                return .array([])
            }
            var selected: [(member: [UInt8], score: Double)]
            switch by {
            case .score?: selected = try CommandExecutor.inRange(txn, zset, scores!)
            case .lex?:
                selected = []
                try txn.forEachMember(of: zset) { member, score in
                    if lex!.contains(member) { selected.append((member, score)) }
                    return true
                }
            case nil:
                var all = try CommandExecutor.ordered(txn, zset)
                if reverse { all.reverse() }
                guard let span = CommandExecutor.span(startStop.0, startStop.1, count: all.count)
                else {
                    return .array([])
                }
                return CommandExecutor.reply(Array(all[span]), withScores: withScores, version)
            }
            if reverse { selected.reverse() }
            if let limit {
                guard limit.offset >= 0, limit.offset < selected.count else { return .array([]) }
                selected = Array(selected[limit.offset...].prefix(limit.count))
            }
            return CommandExecutor.reply(selected, withScores: withScores, version)
        }
    }

    /// ZPOPMIN / ZPOPMAX key [count]
    func zpop(_ c: inout CommandContext, highest: Bool) throws -> CommandOutcome {
        guard c.arguments.count <= 3 else { throw CommandError.syntax }
        var count = 1
        if c.arguments.count == 3 {
            let parsed = try c.integer(2)
            guard parsed >= 0 else {
                throw CommandError("ERR value is out of range, must be positive")
            }
            count = Int(clamping: parsed)
        }
        let key = c.arguments[1]
        let version = c.session.protocolVersion
        let hasCount = c.arguments.count == 3
        let (reply, commit) = try write(c) { txn -> RESPValue in
            guard var zset = try CommandExecutor.existing(txn, key, .zset) else {
                return .array([])
            }
            // The lowest are the first in score order, so ZPOPMIN stops after `count`; the
            // index has no backward walk, so ZPOPMAX reads the whole set (O(n)).
            var popped: [(member: [UInt8], score: Double)] = []
            if highest {
                popped = Array(try CommandExecutor.ordered(txn, zset).reversed().prefix(count))
            } else if count > 0 {
                try txn.forEachByScore(of: zset) { member, score in
                    popped.append((member, score))
                    return popped.count < count
                }
            }
            for (member, _) in popped { try txn.removeMember(member, from: &zset) }
            try txn.saveCollection(zset)
            // Without a count RESP3 answers one flat pair, as Redis does.
            if !hasCount, let only = popped.first {
                return .array([.bulkString(only.member), .double(only.score)])
            }
            return CommandExecutor.reply(popped, withScores: true, version)
        }
        return wrote(reply, commit)
    }

    /// ZREMRANGEBYSCORE / ZREMRANGEBYRANK: removes the members `select` picks; their number.
    func removeMembers(
        _ c: inout CommandContext,
        _ select: (StorageTransaction, CollectionHandle) throws -> [(
            member: [UInt8], score: Double
        )]
    ) throws -> CommandOutcome {
        let key = c.arguments[1]
        let (removed, commit) = try write(c) { txn -> Int in
            guard var zset = try CommandExecutor.existing(txn, key, .zset) else { return 0 }
            let chosen = try select(txn, zset)
            for (member, _) in chosen { try txn.removeMember(member, from: &zset) }
            try txn.saveCollection(zset)
            return chosen.count
        }
        return wrote(.integer(Int64(removed)), commit)
    }
}

/// Byte-wise comparison of byte strings, shorter first on a tie (Redis's member order).
enum OrderedBytes {
    static func compare(_ lhs: [UInt8], _ rhs: [UInt8]) -> Int {
        for (left, right) in zip(lhs, rhs) where left != right { return left < right ? -1 : 1 }
        return lhs.count - rhs.count
    }
}
