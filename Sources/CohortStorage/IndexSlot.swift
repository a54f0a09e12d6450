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
    /// Guarded by the engine's lock while the slot is reachable from the live index.
    var entry: IndexEntry
    /// The `KeyIndex` generation the slot was created in.
    let generation: UInt64
    /// The value of the record at `cachedLocation`, kept by the `ValueCache`; guarded by the
    /// engine's lock. Copies of the tree read only `entry`.
    var cachedValue: [UInt8]?
    var cachedLocation: UInt64 = 0
    /// The cache's position of this slot in its ring, or -1.
    var cachePosition = -1
    /// Set by a cache hit; cleared when the cache's clock hand passes (second chance).
    var cacheReferenced = false

    init(_ entry: IndexEntry, generation: UInt64) {
        self.entry = entry
        self.generation = generation
    }
}
