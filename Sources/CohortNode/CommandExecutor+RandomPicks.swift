import CohortCore
import CohortStorage

/// SRANDMEMBER, SPOP and HRANDFIELD. The picks come from the executor's seeded generator
/// (`picks`: the node's name and start time, so a simulated node picks the same on every run of
/// a seed); under replication the leader picks and SPOP's log entry names the members it
/// removed, so followers never pick. In a collection of `sampledPickSizeMin` elements or
/// more, each pick is a uniform draw from the ordered index (O(log n), see
/// `StorageTransaction.randomElement`); smaller collections, and counts that ask for a large
/// share of the elements, read the whole collection once (O(n)).
extension CommandExecutor {
    static let randomPickCommands: [CommandSpec] = [
        CommandSpec("srandmember", arity: -2, flags: ["readonly"], keys: (1, 1, 1)) { e, c in
            let count = try randomCount(c)
            return try e.readCollection(c) { txn in
                guard let set = try existing(txn, c.arguments[1], .set) else {
                    return count == nil ? .null : .array([])
                }
                let picked = try e.pickElements(txn, set, count: count ?? 1).map(\.element)
                if count == nil { return picked.first.map { .bulkString($0) } ?? .null }
                return .array(picked.map { .bulkString($0) })
            }
        },
        CommandSpec("spop", arity: -2, flags: ["write", "fast"], keys: (1, 1, 1)) { e, c in
            let count = try randomCount(c)
            if let count, count < 0 {
                throw CommandError("ERR value is out of range, must be positive")
            }
            let key = c.arguments[1]
            let (reply, commit) = try e.write(c) { txn -> RESPValue in
                guard var set = try existing(txn, key, .set) else {
                    return count == nil ? .null : .set([])
                }
                let picked = try e.pickElements(txn, set, count: count ?? 1).map(\.element)
                for member in picked { txn.removeElement(member, from: &set) }
                try txn.saveCollection(set)
                if count == nil { return picked.first.map { .bulkString($0) } ?? .null }
                return .set(picked.map { .bulkString($0) })
            }
            return e.wrote(reply, commit)
        },
        CommandSpec("hrandfield", arity: -2, flags: ["readonly"], keys: (1, 1, 1)) { e, c in
            let count = try randomCount(c)
            var withValues = false
            if c.arguments.count == 4 {
                guard c.option(3) == "WITHVALUES" else { throw CommandError.syntax }
                withValues = true
            } else if c.arguments.count > 4 {
                throw CommandError.syntax
            }
            let version = c.session.protocolVersion
            return try e.readCollection(c) { txn in
                guard let hash = try existing(txn, c.arguments[1], .hash) else {
                    return count == nil ? .null : .array([])
                }
                let picked = try e.pickElements(txn, hash, count: count ?? 1)
                if count == nil { return picked.first.map { .bulkString($0.element) } ?? .null }
                guard withValues else { return .array(picked.map { .bulkString($0.element) }) }
                if version == .resp3 {
                    return .array(
                        picked.map { .array([.bulkString($0.element), .bulkString($0.value)]) })
                }
                return .array(picked.flatMap { [.bulkString($0.element), .bulkString($0.value)] })
            }
        },
    ]

    /// The optional count argument (position 2) of a random pick.
    static func randomCount(_ c: CommandContext) throws -> Int? {
        guard c.arguments.count >= 3 else { return nil }
        let count = try c.integer(2)
        // Redis bounds a negative count so that the reply stays allocatable.
        guard count > Int64.min / 2 else {
            throw CommandError("ERR value is out of range")
        }
        return Int(clamping: count)
    }

    /// Collections this big or bigger are picked from by drawing from the index.
    static let sampledPickSizeMin = 64

    /// Elements of `collection` (with their values) picked as Redis picks them: `count` >= 0
    /// distinct ones (all of them when `count` >= the size), `count` < 0 that many with
    /// repetition. Drawn one by one from the index when the collection is big and the count
    /// small against it; otherwise from a read of every element.
    func pickElements(
        _ txn: StorageTransaction, _ collection: CollectionHandle, count: Int
    ) throws -> [(element: [UInt8], value: [UInt8])] {
        guard count != 0, collection.count > 0 else { return [] }
        if collection.count >= Self.sampledPickSizeMin
            && (count < 0 || count <= collection.count / 4)
        {
            let draw = { (bound: Int) -> Int in
                self.picks.withLock { Int($0.next() % UInt64(bound)) }
            }
            let wanted = Int(count.magnitude)
            var picked: [(element: [UInt8], value: [UInt8])] = []
            picked.reserveCapacity(wanted)
            var seen = Set<[UInt8]>()
            var draws = 0
            while picked.count < wanted && draws < 4 * wanted + 16 {
                draws += 1
                guard let one = try txn.randomElement(of: collection, draw: draw) else { break }
                if count > 0 && !seen.insert(one.element).inserted { continue }
                picked.append(one)
            }
            if picked.count == wanted { return picked }
        }
        let all = try Self.allElements(txn, collection)
        return pick(from: all.count, count: count).map { all[$0] }
    }

    /// Indices into `size` elements, as Redis picks them: `count` >= 0 distinct ones (all of
    /// them when `count` >= `size`), `count` < 0 that many with repetition.
    func pick(from size: Int, count: Int) -> [Int] {
        guard size > 0, count != 0 else { return [] }
        return picks.withLock { random in
            if count < 0 {
                return (0..<Int(count.magnitude)).map { _ in Int(random.next() % UInt64(size)) }
            }
            // A partial Fisher-Yates shuffle: the first `count` places are a uniform sample.
            var indices = Array(0..<size)
            let taken = min(count, size)
            for place in 0..<taken {
                let other = place + Int(random.next() % UInt64(size - place))
                indices.swapAt(place, other)
            }
            return Array(indices[0..<taken])
        }
    }
}
