/// Recently written or read values, kept in memory so that hot keys are served without a disk
/// read. The values live in the keys' `IndexSlot`s, so a hit costs no lookup beyond the index's;
/// this type keeps the ring of slots holding one and the byte bound. Eviction is CLOCK (second
/// chance), which approximates LRU with one bit per slot. A cached value names the record it
/// came from (segment id and offset), which names one immutable record forever, so it can never
/// be stale: an overwrite or a compaction moves the key to a new location and the old value
/// simply ages out. The engine's lock guards the cache and the slots' cache fields.
struct ValueCache {

    /// The most bytes held, counting each value's length plus `overheadBytes`; 0 disables the
    /// cache.
    let bytesMax: Int
    /// Values larger than this are never cached: one big value must not flush the cache.
    let valueBytesMax: Int
    /// What one cached value costs beyond its bytes (its allocation, the ring's entry), so
    /// that a cache of tiny values is bounded too.
    static let overheadBytes = 64
    /// The slots holding a value. A slot's cost follows from its value, so that replacing the
    /// value of a cached key (every SET of a hot key) touches the slot, already in the CPU's
    /// cache, and not its ring entry. Invariant: a slot's `cachePosition` is its place here
    /// exactly when it holds a value.
    private var ring: [IndexSlot] = []
    private var hand = 0
    private(set) var bytes = 0
    private(set) var hits = 0
    private(set) var misses = 0

    init(bytesMax: Int) {
        precondition(bytesMax >= 0, "value cache bytesMax \(bytesMax) is negative")
        // A slot keeps its ring position in 32 bits.
        precondition(
            bytesMax / Self.overheadBytes < Int(Int32.max),
            "value cache bytesMax \(bytesMax) holds more values than a slot can number")
        self.bytesMax = bytesMax
        self.valueBytesMax = max(0, bytesMax / 64)
    }

    /// The location key of a record.
    static func location(segmentID: UInt32, offset: UInt64) -> UInt64 {
        precondition(offset < 1 << 40, "segment offset \(offset) beyond 2^40")
        return UInt64(segmentID) << 40 | offset
    }

    /// The location key of the record an entry points at.
    static func location(of entry: IndexEntry) -> UInt64 {
        location(segmentID: entry.segmentID, offset: entry.offset)
    }

    /// The cached value of `slot`'s current record, marking it recently used.
    @inline(__always)
    mutating func value(of slot: IndexSlot) -> [UInt8]? {
        guard let value = slot.cachedValue,
            slot.cachedLocation == Self.location(of: slot.entry)
        else {
            misses += 1
            return nil
        }
        hits += 1
        slot.cacheReferenced = true
        return value
    }

    /// Caches `value`, read from (or written as) the record `entry` points at, in `slot`,
    /// evicting what has not been used since the hand last passed. If the slot has moved on to
    /// another record meanwhile, the value is never served: it names the record it came from.
    mutating func insert(_ value: [UInt8], of slot: IndexSlot, readFrom entry: IndexEntry) {
        // A value too large to cache leaves any older one in place: it names another record,
        // so it is never served, and the hand evicts it in time.
        guard value.count <= valueBytesMax else { return }
        let cost = value.count + Self.overheadBytes
        let isNew = slot.cachePosition < 0
        if isNew {
            slot.cachePosition = ring.count
            slot.cacheReferenced = false
            ring.append(slot)
            bytes += cost
        } else {
            bytes += cost - Self.cost(of: slot)
        }
        slot.cachedValue = value
        slot.cachedLocation = Self.location(of: entry)
        while bytes > bytesMax && ring.count > 1 {
            evictOne(sparing: slot)
        }
        if isNew && ring.count > 1 {
            // The new value goes just behind the hand, the last place it reaches: left at the
            // end of the ring it could be the next victim (eviction fills its hole with the
            // last slot), and once the cache was full each new value evicted the one before
            // it, so a run of reads (an LRANGE of 600 items) missed on every item, every time.
            if hand >= ring.count { hand = 0 }
            let position = slot.cachePosition
            ring.swapAt(position, hand)
            ring[position].cachePosition = position
            ring[hand].cachePosition = hand
            hand = (hand + 1) % ring.count
        }
    }

    /// What a slot's cached value counts against `bytesMax`.
    private static func cost(of slot: IndexSlot) -> Int {
        (slot.cachedValue?.count ?? 0) + overheadBytes
    }

    /// Forgets everything (after FLUSHALL).
    mutating func removeAll() {
        for slot in ring { Self.release(slot) }
        ring.removeAll()
        hand = 0
        bytes = 0
    }

    private static func release(_ slot: IndexSlot) {
        slot.cachedValue = nil
        slot.cachePosition = -1
        slot.cacheReferenced = false
    }

    /// Evicts the first slot at or after the hand that was not used since the hand last
    /// passed, never `spared` (the slot being inserted).
    private mutating func evictOne(sparing spared: IndexSlot) {
        if hand >= ring.count { hand = 0 }
        while ring[hand].cacheReferenced || ring[hand] === spared {
            ring[hand].cacheReferenced = false
            hand = (hand + 1) % ring.count
        }
        let victim = ring[hand]
        bytes -= Self.cost(of: victim)
        Self.release(victim)
        // Fill the hole with the last entry so the ring stays dense.
        let last = ring.count - 1
        if hand != last {
            ring[hand] = ring[last]
            ring[hand].cachePosition = hand
        }
        ring.removeLast()
    }
}
