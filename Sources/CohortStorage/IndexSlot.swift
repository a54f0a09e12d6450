/// The entry of one key, held by reference by both halves of `KeyIndex` (tree leaf and hash
/// table), so that overwriting a key can change one object instead of walking the tree.
///
/// A slot may change in place only while no copy of the tree that escaped the engine's lock
/// (a snapshot, a scan, compaction) can reach it: `KeyIndex` checks `generation` for that.
/// Otherwise a new slot replaces it and the old one never changes its entry again.
///
/// The slot also carries the `ValueCache`'s copy of a value, so that a cached read costs the
/// one hash lookup that finds the entry. The copy names the record it came from
/// (`cachedLocation`), so it is used only while the entry still points at that record: a value
/// can never be served stale, whatever moved the entry.
final class IndexSlot: @unchecked Sendable {
    // Stored properties lie in declaration order: those a cached read touches come first, so
    // that they span as few cache lines as possible (`hotBytes`).

    /// Guarded by the engine's lock while the slot is reachable from the live index.
    var entry: IndexEntry
    /// The value of the record at `cachedLocation`, kept by the `ValueCache`; guarded by the
    /// engine's lock. Copies of the tree read only `entry`.
    var cachedValue: [UInt8]?
    var cachedLocation: UInt64 = 0
    /// Set by a cache hit; cleared when the cache's clock hand passes (second chance).
    var cacheReferenced = false
    /// The cache's position of this slot in its ring, or -1.
    var cachePosition = -1
    /// The `KeyIndex` generation the slot was created in.
    let generation: UInt64

    /// How far into the object a cached read reaches: the object's header (type and
    /// reference count), `entry`, `cachedValue`, `cachedLocation` and `cacheReferenced`.
    /// `PointTable.prefetch` fetches this much of a slot.
    static let hotBytes = 16 + MemoryLayout<IndexEntry>.stride + 8 + 8 + 1
    /// Where `cachedValue` (one reference) lies in the object, for `PointTable.prefetch`.
    static let cachedValueOffset = 16 + MemoryLayout<IndexEntry>.stride

    init(_ entry: IndexEntry, generation: UInt64) {
        self.entry = entry
        self.generation = generation
    }
}
