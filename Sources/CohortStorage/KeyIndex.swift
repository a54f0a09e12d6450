/// The engine's index: the ordered B+tree (`OrderedIndex`) that scans, snapshots, compaction
/// and checkpoints iterate, and a hash table over the same keys for point lookups, which every
/// GET and SET makes. Both hold each key's entry through one shared `IndexSlot`.
///
/// Why: a lookup in the tree at a hundred thousand keys costs about ten cache misses (three
/// levels of binary search over separate arrays); one in the table (`PointTable`), about three. Overwriting
/// a key, the commonest write, changes its slot in place and does not walk the tree at all.
/// The table shares the key bytes with the tree.
///
/// Copies of the tree that outlive the engine's lock come from `snapshotTree()`, which starts
/// a new generation: slots of an older generation may be reachable from such a copy, so they
/// are never changed again but replaced (through the tree, copy-on-write). Only slots created
/// since the last copy change in place.
///
/// Invariant: `points` holds exactly the tree's keys, each with the same slot as the tree.
struct KeyIndex: Sendable {
    private var tree = OrderedIndex()
    private var points = PointTable()
    /// Incremented by every `snapshotTree()`.
    private var generation: UInt64 = 0
    /// How many of the keys are internal (collection elements, see `EngineKey`).
    private(set) var internalCount = 0

    init() {}

    /// An index over keys already in strictly increasing order (a restart's: an index
    /// checkpoint or the resolved segments). The tree and the table are built at once, on two
    /// threads (see `ParallelWork`); neither changes what the other reads.
    ///
    /// Not `inParallel`, both run on the calling thread.
    init(sortedKeys keys: [[UInt8]], entries: [IndexEntry], inParallel: Bool = true) {
        precondition(keys.count == entries.count, "\(keys.count) keys, \(entries.count) entries")
        // The slots are allocated on both threads too (a million allocations take a while),
        // each thread initializing its half of one array.
        let count = entries.count
        let middle = count / 2
        let slots = [IndexSlot](unsafeUninitializedCapacity: count) { buffer, initialized in
            let halves = ParallelWork.Unchecked(buffer)
            _ = ParallelWork.both(
                inParallel: inParallel,
                { Self.makeSlots(keys, entries, 0..<middle, into: halves.value) },
                { Self.makeSlots(keys, entries, middle..<count, into: halves.value) })
            initialized = count
        }
        self.init(sortedSlots: slots, inParallel: inParallel)
    }

    /// An index of `slots`, whose keys are in strictly increasing order and whose generation
    /// is 0 (an index checkpoint's, decoded straight into slots).
    init(sortedSlots slots: [IndexSlot], inParallel: Bool = true) {
        (tree, points) = ParallelWork.both(
            inParallel: inParallel,
            { OrderedIndex(sortedSlots: slots) },
            { PointTable(distinctSlots: slots) })
        // Internal keys sort first: count them up to the first user key.
        internalCount =
            slots.firstIndex { !$0.withKey(EngineKey.isInternal) } ?? slots.count
    }

    /// Initializes `buffer[range]` with a new slot for each of those keys and entries.
    private static func makeSlots(
        _ keys: [[UInt8]], _ entries: [IndexEntry], _ range: Range<Int>,
        into buffer: UnsafeMutableBufferPointer<IndexSlot>
    ) {
        for position in range {
            (buffer.baseAddress! + position).initialize(
                to: IndexSlot.make(key: keys[position], entry: entries[position], generation: 0))
        }
    }

    /// Number of keys held.
    var count: Int { tree.count }

    /// The entry for `key`, if any.
    @inline(__always)
    func get(_ key: [UInt8]) -> IndexEntry? {
        points.slot(key)?.entry
    }

    /// The slot holding `key`'s entry, if any (for the value cache, which lives in slots).
    @inline(__always)
    func slot(_ key: [UInt8]) -> IndexSlot? {
        points.slot(key)
    }

    /// Prefetch hints for lookups of `keys` about to follow (see `PointTable.prefetch`).
    func prefetch(_ keys: [[UInt8]]) {
        points.prefetch(keys)
    }

    /// The tree as it is now, for use outside the engine's lock: iterating it never sees later
    /// writes.
    mutating func snapshotTree() -> OrderedIndex {
        generation += 1
        return tree
    }

    /// Inserts or replaces the entry for `key` when `shouldReplace` accepts the existing one (or
    /// there is none). Returns the previous entry, whether the index changed, and the slot that
    /// now holds the key's entry.
    @discardableResult
    mutating func insert(
        _ key: [UInt8], _ entry: IndexEntry,
        replacingIf shouldReplace: (IndexEntry) -> Bool = { _ in true }
    ) -> (previous: IndexEntry?, changed: Bool, slot: IndexSlot) {
        let probe = points.probe(key)
        guard let slot = points.slot(at: probe) else {
            let fresh = IndexSlot.make(key: key, entry: entry, generation: generation)
            points.insert(fresh, absentAt: probe)
            let inTree = tree.insert(key, fresh)
            precondition(
                inTree.previous == nil, "a key in the index tree is missing from its table")
            if EngineKey.isInternal(key) { internalCount += 1 }
            return (nil, true, fresh)
        }
        let previous = slot.entry
        guard shouldReplace(previous) else { return (previous, false, slot) }
        if slot.generation == generation {
            slot.entry = entry
            return (previous, true, slot)
        }
        let fresh = IndexSlot.make(key: key, entry: entry, generation: generation)
        points.replace(at: probe, with: fresh)
        let inTree = tree.insert(key, fresh)
        precondition(inTree.previous == previous, "index tree and table disagree on a key")
        return (previous, true, fresh)
    }

    /// Removes the entry for `key` and returns it.
    @discardableResult
    mutating func remove(_ key: [UInt8]) -> IndexEntry? {
        guard let removed = points.remove(key) else { return nil }
        let inTree = tree.remove(key)
        precondition(inTree == removed.entry, "index tree and table disagree on a removed key")
        if EngineKey.isInternal(key) { internalCount -= 1 }
        return removed.entry
    }

    /// A key of `lower..<upper` drawn uniformly at random (see `OrderedIndex.randomSlot`).
    func randomSlot(
        from lower: [UInt8], below upper: [UInt8], attemptsMax: Int, draw: (Int) -> Int
    ) -> (key: [UInt8], slot: IndexSlot)? {
        tree.randomSlot(from: lower, below: upper, attemptsMax: attemptsMax, draw: draw)
    }

    /// Walks the keys in order from the first above `cursor` (from the start when nil). Use it
    /// under the engine's lock only; outside it, iterate `snapshotTree()`.
    func makeIterator(after cursor: [UInt8]? = nil) -> OrderedIndex.Iterator {
        tree.makeIterator(after: cursor)
    }
}
