/// The hash half of `KeyIndex`: an open-addressing table (linear probing) from key bytes to the
/// key's `IndexSlot`, with each key's full 64-bit hash stored beside it.
///
/// Why not `Dictionary`: a lookup there compares the probed key's bytes at every occupied
/// bucket it passes, and each comparison follows a pointer to another allocation, a cache miss
/// at a hundred thousand keys. Here a probe compares stored hashes, which sit next to each other
/// in one array, and follows the key's pointer only when the hashes agree (almost always the
/// key sought). Growing rehashes nothing: the stored hashes place the keys again.
///
/// The hash is the standard library's `Hasher` (SipHash, seeded per process), so clients that
/// choose keys cannot make them collide on purpose.
struct PointTable: Sendable {
    private struct Bucket: Sendable {
        /// The key's hash with its top bit set; 0 marks an empty bucket.
        var hash: UInt64
        var key: [UInt8]
        var slot: IndexSlot?

        static let empty = Bucket(hash: 0, key: [], slot: nil)
    }

    private var buckets: [Bucket]
    /// `buckets.count - 1`; the count is a power of two.
    private var mask: Int
    /// Keys held.
    private(set) var count = 0

    /// The most buckets used, as a fraction of all: 7/8 would probe far longer, 1/2 would
    /// double the memory.
    private static let loadNumerator = 3
    private static let loadDenominator = 4
    private static let bucketsMin = 16

    /// A table with room for `capacity` keys before it grows.
    init(capacity: Int = 0) {
        var size = Self.bucketsMin
        while size * Self.loadNumerator / Self.loadDenominator < capacity { size *= 2 }
        buckets = Array(repeating: .empty, count: size)
        mask = size - 1
    }

    /// The hash a lookup of `key` uses; never 0.
    @inline(__always)
    static func hash(_ key: [UInt8]) -> UInt64 {
        var hasher = Hasher()
        key.withUnsafeBytes { hasher.combine(bytes: $0) }
        return UInt64(UInt(bitPattern: hasher.finalize())) | 1 << 63
    }

    /// Where `key` is, or would go: its hash and its bucket (-1 when the table lacks it).
    struct Probe {
        let hash: UInt64
        let position: Int
    }

    /// The slot of `key`, if the table holds it.
    @inline(__always)
    func slot(_ key: [UInt8]) -> IndexSlot? {
        slot(at: probe(key))
    }

    /// The slot a probe found, if any.
    @inline(__always)
    func slot(at probe: Probe) -> IndexSlot? {
        probe.position < 0 ? nil : buckets[probe.position].slot
    }

    /// Finds `key`.
    func probe(_ key: [UInt8]) -> Probe {
        let hash = Self.hash(key)
        var position = Int(truncatingIfNeeded: hash) & mask
        while true {
            let stored = buckets[position].hash
            if stored == 0 { return Probe(hash: hash, position: -1) }
            if stored == hash && Self.equal(buckets[position].key, key) {
                return Probe(hash: hash, position: position)
            }
            position = (position + 1) & mask
        }
    }

    @inline(__always)
    private static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        lhs.count == rhs.count && OrderedIndex.compare(lhs, rhs) == 0
    }

    /// Makes `slot` the slot of `key`, whether or not the table held the key.
    mutating func set(_ key: [UInt8], _ slot: IndexSlot) {
        let found = probe(key)
        if found.position >= 0 {
            replace(at: found, with: slot)
        } else {
            insert(key, slot, absentAt: found)
        }
    }

    /// Puts `slot` in place of the slot a probe found.
    @inline(__always)
    mutating func replace(at probe: Probe, with slot: IndexSlot) {
        precondition(probe.position >= 0, "replacing the slot of a key the table lacks")
        buckets[probe.position].slot = slot
    }

    /// Adds `key`, which `probe` (taken since the table last changed) did not find.
    mutating func insert(_ key: [UInt8], _ slot: IndexSlot, absentAt probe: Probe) {
        precondition(probe.position < 0, "inserting a key the table holds")
        if (count + 1) * Self.loadDenominator > buckets.count * Self.loadNumerator {
            grow()
        }
        place(Bucket(hash: probe.hash, key: key, slot: slot))
        count += 1
    }

    /// Removes `key`; returns its slot.
    @discardableResult
    mutating func remove(_ key: [UInt8]) -> IndexSlot? {
        var hole = probe(key).position
        guard hole >= 0 else { return nil }
        let removed = buckets[hole].slot
        // Backward-shift deletion: move later keys of the same run into the hole whenever the
        // hole lies between their home bucket and where they sit, so that no lookup stops
        // early at it. No tombstones, so probe lengths never degrade.
        var next = hole
        while true {
            next = (next + 1) & mask
            let hash = buckets[next].hash
            if hash == 0 { break }
            let home = Int(truncatingIfNeeded: hash) & mask
            let homeAfterHole =
                hole <= next ? (hole < home && home <= next) : (hole < home || home <= next)
            if homeAfterHole { continue }
            buckets[hole] = buckets[next]
            hole = next
        }
        buckets[hole] = .empty
        count -= 1
        return removed
    }

    private mutating func place(_ bucket: Bucket) {
        var position = Int(truncatingIfNeeded: bucket.hash) & mask
        while buckets[position].hash != 0 { position = (position + 1) & mask }
        buckets[position] = bucket
    }

    private mutating func grow() {
        let old = buckets
        buckets = Array(repeating: .empty, count: old.count * 2)
        mask = buckets.count - 1
        for bucket in old where bucket.hash != 0 { place(bucket) }
    }
}
