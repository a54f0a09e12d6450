import CohortCore
import CohortPrefetch

/// The hash half of `KeyIndex`: an open-addressing table (linear probing) from key bytes to the
/// key's `IndexSlot`, with each key's full 64-bit hash stored beside it. The key's bytes are in
/// its slot (16 bytes a bucket).
///
/// Why not `Dictionary`: a lookup there compares the probed key's bytes at every occupied
/// bucket it passes, and each comparison follows a pointer to another allocation, a cache miss
/// at a hundred thousand keys. Here a probe compares stored hashes, which sit next to each other
/// in one array, and follows the slot's pointer only when the hashes agree (almost always the
/// key sought, whose slot the caller reads next anyway). Growing rehashes nothing: the stored
/// hashes place the keys again.
///
/// The hash is SipHash-1-3 under a key random per process, so clients that choose keys cannot
/// make them collide on purpose.
///
/// `prefetch(_:)` lets a batch of lookups (a pipeline's) wait for memory together: at a
/// hundred thousand keys the table, the key bytes and the slots are far larger than the CPU's
/// cache, and a lookup that finds its memory cold waits for it three or four times in a row.
struct PointTable: Sendable {
    private struct Bucket: @unchecked Sendable {
        /// The key's hash with its top bit set; 0 marks an empty bucket.
        var hash: UInt64
        var slot: IndexSlot?

        static let empty = Bucket(hash: 0, slot: nil)
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

    /// A table of `slots`, whose keys must all differ: a restart's bulk build.
    ///
    /// Inserting a million keys one by one waits for memory twice per key: the slot's key (to
    /// hash it) and its bucket. Here each slot is prefetched `distance` slots ahead and its
    /// bucket once it is hashed, another `distance` slots before its insertion, so the waits
    /// overlap. Slots are taken from the last to the first, so that beside the tree's bulk
    /// build, which runs from the first on another thread (`KeyIndex.init(sortedSlots:)`), the
    /// two do not retain the same slots at the same moment.
    init(distinctSlots slots: [IndexSlot]) {
        self.init(capacity: slots.count)
        let count = slots.count
        let distance = 8
        let ringSize = 4 * distance
        var ring = [UInt64](repeating: 0, count: ringSize)
        let mask = mask
        slots.withUnsafeBufferPointer { slotBuffer in
            guard let slotBase = slotBuffer.baseAddress else { return }
            let slotReferences = UnsafeRawPointer(slotBase)
            for step in 0..<(count + 2 * distance) {
                // Step `step` prefetches slot `step`, hashes slot `step - distance` and
                // prefetches its bucket, and inserts slot `step - 2 * distance` (counted from
                // the end).
                if step < count,
                    let slot = Self.address(
                        slotReferences, (count - 1 - step) * MemoryLayout<IndexSlot>.stride)
                {
                    cohort_prefetch(slot + IndexSlot.keyOffset)
                }
                let hashed = step - distance
                if hashed >= 0 && hashed < count {
                    let hash = slotBuffer[count - 1 - hashed].withKey(Self.hash)
                    ring[hashed % ringSize] = hash
                    buckets.withUnsafeBufferPointer { table in
                        if let first = table.baseAddress {
                            cohort_prefetch(Self.bucket(of: hash, in: first, mask: mask))
                        }
                    }
                }
                let inserted = step - 2 * distance
                if inserted >= 0 {
                    let position = count - 1 - inserted
                    place(Bucket(hash: ring[inserted % ringSize], slot: slotBuffer[position]))
                }
            }
        }
        self.count = count
    }

    /// The hash a lookup of `key` uses; never 0.
    @inline(__always)
    static func hash(_ key: [UInt8]) -> UInt64 {
        SipHash.hash13(key0: hashKey.0, key1: hashKey.1, key) | 1 << 63
    }

    /// `hash` of a key in place.
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        SipHash.hash13(key0: hashKey.0, key1: hashKey.1, UnsafeRawBufferPointer(key)) | 1 << 63
    }

    /// The table's SipHash key, random per process: drawn from the standard library's
    /// per-process seed (by hashing two constants with `Hasher`), so it is as random as
    /// `Hasher`, and as reproducible when SWIFT_DETERMINISTIC_HASHING is set.
    private static let hashKey: (UInt64, UInt64) = {
        var first = Hasher()
        first.combine(0x636F_686F_7274_2D6B as UInt64)
        var second = Hasher()
        second.combine(0x6579_2D74_6162_6C65 as UInt64)
        return (
            UInt64(UInt(bitPattern: first.finalize())), UInt64(UInt(bitPattern: second.finalize()))
        )
    }()

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
            if stored == hash, let slot = buckets[position].slot, slot.hasKey(key) {
                return Probe(hash: hash, position: position)
            }
            position = (position + 1) & mask
        }
    }

    /// Hints the CPU to fetch what lookups of `keys`, made soon after, will read: each key's
    /// home bucket first, for all keys, then the key bytes and the slot that bucket names. The
    /// lookups then find their memory in the cache, or on its way, instead of waiting for each
    /// line in turn. Changes nothing; a lookup never depends on it.
    ///
    /// The second pass reads a bucket's slot reference as a plain address, without
    /// retaining them (a retain would itself wait for the slot's memory), and uses them only as
    /// prefetch addresses, which never fault: if `Array`'s or a reference's layout were ever
    /// other than assumed, the hints would be wasted, never wrong.
    func prefetch(_ keys: [[UInt8]]) {
        guard !keys.isEmpty,
            let hashOffset = MemoryLayout<Bucket>.offset(of: \Bucket.hash),
            let slotOffset = MemoryLayout<Bucket>.offset(of: \Bucket.slot)
        else { return }
        let mask = mask
        buckets.withUnsafeBufferPointer { table in
            guard let base = table.baseAddress else { return }
            withUnsafeTemporaryAllocation(of: UInt.self, capacity: keys.count) { found in
                // Each pass issues its loads for all keys before the next pass reads them.
                for index in keys.indices {
                    let hash = Self.hash(keys[index])
                    found[index] = UInt(truncatingIfNeeded: hash)
                    cohort_prefetch(Self.bucket(of: hash, in: base, mask: mask))
                }
                for index in keys.indices {
                    let hash = UInt64(truncatingIfNeeded: found[index])
                    let bucket = Self.bucket(of: hash, in: base, mask: mask)
                    found[index] = 0
                    // Another key's home: the lookup probes on, usually within this line.
                    guard bucket.load(fromByteOffset: hashOffset, as: UInt64.self) == hash else {
                        continue
                    }
                    if let slot = Self.address(bucket, slotOffset) {
                        // The fields a read touches and the key it compares, at 16-byte
                        // alignment: two or three lines.
                        cohort_prefetch(slot)
                        cohort_prefetch(slot + IndexSlot.hotBytes - 1)
                        cohort_prefetch(slot + IndexSlot.keyOffset + keys[index].count - 1)
                        found[index] = UInt(bitPattern: slot)
                    }
                }
                // The cached value's bytes, which a cached read copies out.
                for index in keys.indices {
                    guard let slot = UnsafeRawPointer(bitPattern: found[index]),
                        let value = Self.address(slot, IndexSlot.cachedValueOffset)
                    else { continue }
                    cohort_prefetch(value + Self.arrayCountOffset)
                }
            }
        }
    }

    /// Where an array's storage object keeps its count and its first element (after the
    /// object's header, type and reference count): what the prefetches aim at.
    /// `PrefetchLayoutTests` fail if the standard library ever lays arrays out otherwise.
    static let arrayCountOffset = 16
    static let arrayElementsOffset = 32

    /// The home bucket of `hash` in the bucket array that starts at `first`.
    @inline(__always)
    private static func bucket(
        of hash: UInt64, in first: UnsafePointer<Bucket>, mask: Int
    ) -> UnsafeRawPointer {
        UnsafeRawPointer(first + (Int(truncatingIfNeeded: hash) & mask))
    }

    /// The address a reference stored `offset` bytes after `base` holds, without retaining it.
    @inline(__always)
    private static func address(_ base: UnsafeRawPointer, _ offset: Int) -> UnsafeRawPointer? {
        UnsafeRawPointer(bitPattern: base.load(fromByteOffset: offset, as: UInt.self))
    }

    /// Makes `slot` the slot of its key, whether or not the table held the key.
    mutating func set(_ slot: IndexSlot) {
        let found = probe(slot.key)
        if found.position >= 0 {
            replace(at: found, with: slot)
        } else {
            insert(slot, absentAt: found)
        }
    }

    /// Puts `slot` in place of the slot a probe found.
    @inline(__always)
    mutating func replace(at probe: Probe, with slot: IndexSlot) {
        precondition(probe.position >= 0, "replacing the slot of a key the table lacks")
        buckets[probe.position].slot = slot
    }

    /// Adds `slot`, whose key `probe` (taken since the table last changed) did not find.
    mutating func insert(_ slot: IndexSlot, absentAt probe: Probe) {
        precondition(probe.position < 0, "inserting a key the table holds")
        if (count + 1) * Self.loadDenominator > buckets.count * Self.loadNumerator {
            grow()
        }
        place(Bucket(hash: probe.hash, slot: slot))
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
