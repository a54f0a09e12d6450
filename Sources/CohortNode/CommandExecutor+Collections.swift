import CohortCore
import CohortStorage

/// What the hash and set commands share: finding a key's collection with Redis's type rules,
/// and reading the committed state.
extension CommandExecutor {
    /// The collection of `type` at `key`; nil when the key is absent. WRONGTYPE when it holds
    /// anything else.
    static func existing(
        _ txn: StorageTransaction, _ key: [UInt8], _ type: ValueType
    ) throws -> CollectionHandle? {
        switch try txn.collection(key) {
        case .absent: return nil
        case .found(let collection) where collection.type == type: return collection
        case .found, .otherType: throw CommandError.wrongType
        }
    }

    /// The collection of `type` at `key`, or a new empty one when the key is absent.
    /// WRONGTYPE when it holds anything else.
    static func existingOrNew(
        _ txn: inout StorageTransaction, _ key: [UInt8], _ type: ValueType
    ) throws -> CollectionHandle {
        try existing(txn, key, type) ?? txn.newCollection(key, type: type)
    }

    /// A read-only command's work over the committed state, with its reply.
    func readCollection(
        _ c: CommandContext, _ body: (StorageTransaction) throws -> RESPValue
    ) throws -> CommandOutcome {
        read(try reading(c, body))
    }

    /// Every element of `collection` with its value, in element order.
    static func allElements(
        _ txn: StorageTransaction, _ collection: CollectionHandle
    ) throws -> [(element: [UInt8], value: [UInt8])] {
        var all: [(element: [UInt8], value: [UInt8])] = []
        all.reserveCapacity(collection.count)
        try txn.forEachElement(of: collection) { element, value in
            all.append((element, value))
            return true
        }
        return all
    }

    /// HSCAN / SSCAN key cursor [MATCH pattern] [COUNT n] [NOVALUES]: a page of the elements
    /// of the collection of `type` at the key, after the position the cursor names (kept by
    /// this node's cursor table, as SCAN's are). Hashes list each field with its value unless
    /// NOVALUES.
    func scanElements(_ c: inout CommandContext, _ type: ValueType) throws -> CommandOutcome {
        guard let cursor = UInt64(String(decoding: c.arguments[2], as: UTF8.self)) else {
            throw CommandError("ERR invalid cursor")
        }
        var pattern: GlobPattern?
        var count = 10
        var withValues = type == .hash || type == .zset
        var index = 3
        while index < c.arguments.count {
            if type == .hash && c.option(index) == "NOVALUES" {
                withValues = false
                index += 1
                continue
            }
            guard index + 1 < c.arguments.count else { throw CommandError.syntax }
            switch c.option(index) {
            case "MATCH": pattern = GlobPattern(c.arguments[index + 1])
            case "COUNT":
                let value = try c.integer(index + 1)
                guard value >= 1 else { throw CommandError.syntax }
                count = Int(min(value, 100_000))
            default: throw CommandError.syntax
            }
            index += 2
        }
        var position: [UInt8]?
        if cursor != 0 {
            guard let known = cursors.position(of: cursor) else {
                throw CommandError("ERR invalid cursor")
            }
            position = known
        }
        let key = c.arguments[1]
        let (found, last) = try reading(c) {
            txn -> ([RESPValue], [UInt8]?) in
            guard let collection = try CommandExecutor.existing(txn, key, type) else {
                return ([], nil)
            }
            var found: [RESPValue] = []
            var examined = 0
            var last: [UInt8]?
            try txn.forEachElement(of: collection, after: position) { element, value in
                if examined == count {
                    return false
                }
                // A sorted set's members come first, tagged; its score-order entries follow.
                var element = element
                var value = value
                if type == .zset {
                    guard element.first == 0, let score = SortedSetElement.score(value) else {
                        return false
                    }
                    last = element
                    element.removeFirst()
                    value = Array(RESPEncoder.doubleText(score).utf8)
                } else {
                    last = element
                }
                examined += 1
                if let pattern, !pattern.matchesEverything, !pattern.matches(element) {
                    return true
                }
                found.append(.bulkString(element))
                if withValues { found.append(.bulkString(value)) }
                return true
            }
            // A full page may have been the last: the next call then answers an empty page
            // with cursor 0, as Redis may.
            return (found, examined == count ? last : nil)
        }
        let next = last.map { cursors.open(after: $0) } ?? 0
        return read(.array([.bulkString(Array(String(next).utf8)), .array(found)]))
    }
}
