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

    /// HDEL / SREM / ZREM key element...: removes each named element of the collection of
    /// `type` at the key with `remove`; answers how many were there.
    func removeNamed(
        _ c: inout CommandContext, _ type: ValueType,
        _ remove: (inout StorageTransaction, [UInt8], inout CollectionHandle) throws -> Bool
    ) throws -> CommandOutcome {
        let arguments = c.arguments
        let (removed, commit) = try write(c) { txn in
            guard var collection = try Self.existing(txn, arguments[1], type) else { return 0 }
            var removed = 0
            for element in arguments[2...] where try remove(&txn, element, &collection) {
                removed += 1
            }
            try txn.saveCollection(collection)
            return removed
        }
        return wrote(.integer(Int64(removed)), commit)
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
        var withValues = type == .hash || type == .zset
        let scan = try ScanArguments(c, cursorAt: 2) { option, _ in
            guard type == .hash && option == "NOVALUES" else { throw CommandError.syntax }
            withValues = false
            return 1
        }
        let (cursor, count, matcher) = (scan.cursor, scan.count, scan.matcher)
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
                if let matcher, !matcher(element) { return true }
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
