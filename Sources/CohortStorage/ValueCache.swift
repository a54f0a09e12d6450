/// Recently written or read values, kept in memory so that hot keys are served without a disk
/// read. Bounded by bytes; eviction is CLOCK (second chance), which approximates LRU with one
/// bit per slot. Keyed by record location (segment id and offset), which names one immutable
/// record forever, so a cached value can never be stale: an overwrite or a compaction moves
/// the key to a new location and the old slot simply ages out. The engine's lock guards it.
struct ValueCache {
    private struct Slot {
        var location: UInt64
        var bytes: [UInt8]
        var referenced: Bool
    }

    /// The most bytes of values held; 0 disables the cache.
    let bytesMax: Int
    /// Values larger than this are never cached: one big value must not flush the cache.
    let valueBytesMax: Int
    private var slots: [Slot] = []
    private var slotByLocation: [UInt64: Int] = [:]
    private var hand = 0
    private(set) var bytes = 0
    private(set) var hits = 0
    private(set) var misses = 0

    init(bytesMax: Int) {
        precondition(bytesMax >= 0, "value cache bytesMax \(bytesMax) is negative")
        self.bytesMax = bytesMax
        self.valueBytesMax = max(0, bytesMax / 64)
    }

    /// The location key of a record.
    static func location(segmentID: UInt32, offset: UInt64) -> UInt64 {
        precondition(offset < 1 << 40, "segment offset \(offset) beyond 2^40")
        return UInt64(segmentID) << 40 | offset
    }

    /// The cached value at `location`, marking it recently used.
    mutating func value(at location: UInt64) -> [UInt8]? {
        guard let slot = slotByLocation[location] else {
            misses += 1
            return nil
        }
        hits += 1
        slots[slot].referenced = true
        return slots[slot].bytes
    }

    /// Caches `value` for `location`, evicting what has not been used since the hand last
    /// passed.
    mutating func insert(_ value: [UInt8], at location: UInt64) {
        guard value.count <= valueBytesMax, slotByLocation[location] == nil else { return }
        while bytes + value.count > bytesMax && !slots.isEmpty {
            evictOne()
        }
        slotByLocation[location] = slots.count
        slots.append(Slot(location: location, bytes: value, referenced: false))
        bytes += value.count
    }

    /// Forgets everything (after FLUSHALL).
    mutating func removeAll() {
        slots.removeAll()
        slotByLocation.removeAll()
        hand = 0
        bytes = 0
    }

    private mutating func evictOne() {
        if hand >= slots.count { hand = 0 }
        while slots[hand].referenced {
            slots[hand].referenced = false
            hand = (hand + 1) % slots.count
        }
        let victim = slots[hand]
        slotByLocation[victim.location] = nil
        bytes -= victim.bytes.count
        // Fill the hole with the last slot so the array stays dense.
        let last = slots.count - 1
        if hand != last {
            slots[hand] = slots[last]
            slotByLocation[slots[hand].location] = hand
        }
        slots.removeLast()
    }
}
