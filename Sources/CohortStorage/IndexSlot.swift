/// The entry of one key, held by reference by both halves of `KeyIndex` (tree leaf and hash
/// table), so that overwriting a key can change one object instead of walking the tree. The
/// slot also holds the key's bytes, after its fields in the same allocation, so that neither
/// half keeps a key of its own: one object per key, which the index's memory is mostly made of
/// (see "Memory per key" in README.md).
///
/// A slot may change in place only while no copy of the tree that escaped the engine's lock
/// (a snapshot, a scan, compaction) can reach it: `KeyIndex` checks `generation` for that.
/// Otherwise a new slot replaces it and the old one never changes its entry again.
///
/// The slot also carries the `ValueCache`'s copy of a value, so that a cached read costs the
/// one hash lookup that finds the entry. The copy names the record it came from
/// (`cachedLocation`), so it is used only while the entry still points at that record: a value
/// can never be served stale, whatever moved the entry.
///
/// Not `Sendable` (`ManagedBuffer` never is): slots move between threads only inside the
/// index's nodes and table, which the engine's lock and the copy-on-write generations guard.
final class IndexSlot: ManagedBuffer<IndexSlot.Fields, UInt8> {
    /// The slot's fields, in memory in this order right after the object's header (type and
    /// reference count, 16 bytes): those a cached read touches first, so that they span as
    /// few cache lines as possible (`hotBytes`); 88 bytes in all, then the key.
    struct Fields {
        /// Guarded by the engine's lock while the slot is reachable from the live index.
        var entry: IndexEntry
        /// Set by a cache hit; cleared when the cache's clock hand passes (second chance).
        var cacheReferenced = false
        /// The value of the record at `cachedLocation`, kept by the `ValueCache`; guarded by
        /// the engine's lock. Copies of the tree read only `entry`.
        var cachedValue: [UInt8]?
        var cachedLocation: UInt64 = 0
        /// The `KeyIndex` generation the slot was created in.
        let generation: UInt64
        /// The cache's position of this slot in its ring, or -1.
        var cachePosition: Int32 = -1
        /// The length of the key that follows the fields.
        let keyCount: UInt32
    }

    /// Where the fields start in the object (after its header).
    static let fieldsOffset = 16
    /// How far into the object a cached read reaches: the object's header, `entry`,
    /// `cacheReferenced`, `cachedValue` and `cachedLocation`. `PointTable.prefetch` fetches
    /// this much of a slot.
    static let hotBytes =
        fieldsOffset + MemoryLayout<Fields>.offset(of: \Fields.cachedLocation)! + 8
    /// Where `cachedValue` (one reference) lies in the object, for `PointTable.prefetch`.
    static let cachedValueOffset =
        fieldsOffset + MemoryLayout<Fields>.offset(of: \Fields.cachedValue)!
    /// Where the key's bytes start in the object.
    static let keyOffset = fieldsOffset + MemoryLayout<Fields>.size

    /// A slot for `key` holding `entry`.
    static func make(key: [UInt8], entry: IndexEntry, generation: UInt64) -> IndexSlot {
        key.withUnsafeBufferPointer { make(key: $0, entry: entry, generation: generation) }
    }

    /// A slot for the key in `key` (copied) holding `entry`.
    static func make(
        key: UnsafeBufferPointer<UInt8>, entry: IndexEntry, generation: UInt64
    ) -> IndexSlot {
        precondition(key.count <= Int(UInt32.max), "key of \(key.count) bytes")
        let buffer = IndexSlot.create(minimumCapacity: key.count) { _ in
            Fields(entry: entry, generation: generation, keyCount: UInt32(key.count))
        }
        buffer.withUnsafeMutablePointerToElements { elements in
            guard let base = key.baseAddress else { return }
            elements.initialize(from: base, count: key.count)
        }
        return unsafeDowncast(buffer, to: IndexSlot.self)
    }

    var entry: IndexEntry {
        @inline(__always) get { header.entry }
        @inline(__always) set { header.entry = newValue }
    }

    var cachedValue: [UInt8]? {
        @inline(__always) get { header.cachedValue }
        @inline(__always) set { header.cachedValue = newValue }
    }

    var cachedLocation: UInt64 {
        @inline(__always) get { header.cachedLocation }
        @inline(__always) set { header.cachedLocation = newValue }
    }

    var cacheReferenced: Bool {
        @inline(__always) get { header.cacheReferenced }
        @inline(__always) set { header.cacheReferenced = newValue }
    }

    var cachePosition: Int {
        @inline(__always) get { Int(header.cachePosition) }
        @inline(__always) set { header.cachePosition = Int32(newValue) }
    }

    var generation: UInt64 { header.generation }

    /// The key's length.
    var keyCount: Int {
        @inline(__always) get { Int(header.keyCount) }
    }

    /// Calls `body` with the key's bytes (valid only during the call).
    @inline(__always)
    func withKey<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let count = Int(header.keyCount)
        return try withUnsafeMutablePointerToElements { elements in
            try body(UnsafeBufferPointer(start: elements, count: count))
        }
    }

    /// A copy of the key.
    var key: [UInt8] { withKey { Array($0) } }

    /// Three-way comparison of the slot's key with `other`, as unsigned bytes, shorter first.
    @inline(__always)
    func compareKey(_ other: [UInt8]) -> Int {
        withKey { mine in
            other.withUnsafeBufferPointer { theirs in
                OrderedIndex.compare(mine, theirs)
            }
        }
    }

    /// Whether the slot's key is `other`.
    @inline(__always)
    func hasKey(_ other: [UInt8]) -> Bool {
        Int(header.keyCount) == other.count && compareKey(other) == 0
    }
}
