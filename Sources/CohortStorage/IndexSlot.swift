/// The entry of one key, held by reference by both halves of `KeyIndex` (tree leaf and hash
/// table), so that overwriting a key can change one object instead of walking the tree.
///
/// A slot may change in place only while no copy of the tree that escaped the engine's lock
/// (a snapshot, a scan, compaction) can reach it: `KeyIndex` checks `generation` for that.
/// Otherwise a new slot replaces it and the old one never changes again.
final class IndexSlot: @unchecked Sendable {
    /// Guarded by the engine's lock while the slot is reachable from the live index.
    var entry: IndexEntry
    /// The `KeyIndex` generation the slot was created in.
    let generation: UInt64

    init(_ entry: IndexEntry, generation: UInt64) {
        self.entry = entry
        self.generation = generation
    }
}
