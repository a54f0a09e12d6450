/// The engine's index: the ordered B+tree (`OrderedIndex`) that scans, snapshots, compaction
/// and checkpoints iterate, and a hash table over the same entries for point lookups, which
/// every GET and SET makes. A lookup in the tree at a hundred thousand keys costs about ten
/// cache misses (three levels of binary search over separate arrays); one in the table, two or
/// three. The table shares the key bytes with the tree; it costs about a hundred bytes a key.
///
/// Invariant: `points` holds exactly the tree's keys, each with the tree's entry.
/// Copies that outlive the engine's lock (snapshots, scans) take `tree` alone: a copy of the
/// table would make the next write copy all of it.
struct KeyIndex: Sendable {
    /// The ordered index, for iteration and snapshots.
    private(set) var tree = OrderedIndex()
    private var points: [HashedKey: IndexEntry] = [:]

    init() {}

    /// An index over keys already in strictly increasing order (an index checkpoint).
    init(sortedKeys keys: [[UInt8]], entries: [IndexEntry]) {
        tree = OrderedIndex(sortedKeys: keys, entries: entries)
        points.reserveCapacity(keys.count)
        for (key, entry) in zip(keys, entries) {
            points[HashedKey(key)] = entry
        }
    }

    /// Number of keys held.
    var count: Int { tree.count }

    /// The entry for `key`, if any.
    @inline(__always)
    func get(_ key: [UInt8]) -> IndexEntry? {
        points[HashedKey(key)]
    }

    /// Inserts or replaces the entry for `key` when `shouldReplace` accepts the existing one (or
    /// there is none). Returns the previous entry and whether the index changed.
    @discardableResult
    mutating func insert(
        _ key: [UInt8], _ entry: IndexEntry,
        replacingIf shouldReplace: (IndexEntry) -> Bool = { _ in true }
    ) -> (previous: IndexEntry?, changed: Bool) {
        let hashed = HashedKey(key)
        if let existing = points[hashed], !shouldReplace(existing) { return (existing, false) }
        let previous = points.updateValue(entry, forKey: hashed)
        let inTree = tree.insert(key, entry)
        precondition(
            inTree.previous == previous,
            "index tree and table disagree on a key: \(String(describing: inTree.previous)) "
                + "vs \(String(describing: previous))")
        return (previous, true)
    }

    /// Removes the entry for `key` and returns it.
    @discardableResult
    mutating func remove(_ key: [UInt8]) -> IndexEntry? {
        guard let removed = points.removeValue(forKey: HashedKey(key)) else { return nil }
        let inTree = tree.remove(key)
        precondition(inTree == removed, "index tree and table disagree on a removed key")
        return removed
    }

    /// Walks the keys in order from the first above `cursor` (from the start when nil).
    func makeIterator(after cursor: [UInt8]? = nil) -> OrderedIndex.Iterator {
        tree.makeIterator(after: cursor)
    }
}
