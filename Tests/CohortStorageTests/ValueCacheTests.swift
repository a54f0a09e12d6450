import CohortCore
import Foundation
import Testing

@testable import CohortStorage

@Suite struct ValueCacheTests {
    /// A slot whose entry points at the record at `offset` of segment 1.
    func slot(at offset: UInt64) -> IndexSlot {
        IndexSlot.make(key: Array("key:\(offset)".utf8), entry: entry(at: offset), generation: 0)
    }

    func entry(at offset: UInt64) -> IndexEntry {
        IndexEntry(
            segmentID: 1, offset: offset, recordLength: 60,
            metadata: VersionMetadata(
                sequence: offset + 1, timestamp: .zero, origin: NodeID(1), isTombstone: false,
                type: .string, expiresAtMillis: 0))
    }

    @Test func staysWithinItsByteBoundAndKeepsRecentlyUsedValues() {
        let costMax = 64 * (100 + ValueCache.overheadBytes)
        var cache = ValueCache(bytesMax: costMax)
        let value = [UInt8](repeating: 7, count: 100)
        let slots = (0..<1_000 as Range<UInt64>).map { slot(at: $0) }
        for slot in slots {
            cache.insert(value, of: slot, readFrom: slot.entry)
            // Keep touching the first slot: CLOCK gives it a second chance every round.
            _ = cache.value(of: slots[0])
            #expect(cache.bytes <= costMax)
        }
        #expect(cache.value(of: slots[0]) == value, "a value used on every round is never evicted")
        #expect(cache.value(of: slots[999]) == value, "the newest value is present")
        #expect(cache.value(of: slots[500]) == nil, "old unused values were evicted")
        #expect(slots[500].cachedValue == nil, "an evicted value's memory is released")
    }

    /// Once the cache is full, a run of new values (a range read's items) stays: each new
    /// value evicts an old one, not the new value before it.
    @Test func aRunOfNewValuesSurvivesAFullCache() {
        let costMax = 64 * (100 + ValueCache.overheadBytes)
        var cache = ValueCache(bytesMax: costMax)
        let value = [UInt8](repeating: 7, count: 100)
        let slots = (0..<200 as Range<UInt64>).map { slot(at: $0) }
        for slot in slots[0..<64] { cache.insert(value, of: slot, readFrom: slot.entry) }
        for slot in slots[64..<96] { cache.insert(value, of: slot, readFrom: slot.entry) }
        let kept = slots[64..<96].filter { cache.value(of: $0) != nil }.count
        #expect(kept == 32, "only \(kept) of the 32 newest values are cached")
        // Read again and again, a working set smaller than the cache stays cached.
        for _ in 0..<3 {
            for slot in slots[100..<140] where cache.value(of: slot) == nil {
                cache.insert(value, of: slot, readFrom: slot.entry)
            }
        }
        let hitsBefore = cache.hits
        for slot in slots[100..<140] { _ = cache.value(of: slot) }
        #expect(cache.hits - hitsBefore == 40)
    }

    /// A slot's cost follows from its value: replacing a cached value with a smaller or larger
    /// one moves the cache's bytes by the difference, and eviction takes off what it held.
    @Test func replacingAValueAccountsForItsNewSize() {
        // Values up to bytesMax / 64 (2,000 bytes) are cached.
        var cache = ValueCache(bytesMax: 128_000)
        let first = slot(at: 1)
        cache.insert([UInt8](repeating: 1, count: 1_000), of: first, readFrom: first.entry)
        #expect(cache.bytes == 1_000 + ValueCache.overheadBytes)
        cache.insert([UInt8](repeating: 2, count: 500), of: first, readFrom: first.entry)
        #expect(cache.bytes == 500 + ValueCache.overheadBytes)
        cache.insert([UInt8](repeating: 3, count: 1_500), of: first, readFrom: first.entry)
        #expect(cache.bytes == 1_500 + ValueCache.overheadBytes)
        // Fill past the bound: whatever is evicted, the count is what the cached slots hold.
        let others = (2..<200 as Range<UInt64>).map { slot(at: $0) }
        for other in others {
            cache.insert([UInt8](repeating: 4, count: 1_000), of: other, readFrom: other.entry)
        }
        let held = ([first] + others).compactMap(\.cachedValue).reduce(0) {
            $0 + $1.count + ValueCache.overheadBytes
        }
        #expect(held > 0 && cache.bytes == held)
        #expect(cache.bytes <= cache.bytesMax)
    }

    @Test func refusesValuesTooLargeToShare() {
        var cache = ValueCache(bytesMax: 6_400)
        let big = slot(at: 1)
        cache.insert([UInt8](repeating: 1, count: 101), of: big, readFrom: big.entry)
        #expect(cache.value(of: big) == nil)
        var disabled = ValueCache(bytesMax: 0)
        let small = slot(at: 2)
        disabled.insert([1], of: small, readFrom: small.entry)
        #expect(disabled.value(of: small) == nil)
    }

    /// A value names the record it was read from: once the slot's entry points elsewhere (an
    /// overwrite in place, a compaction move), the old value is not served, and a value read
    /// from a record the slot has already left is never served either.
    @Test func neverServesTheValueOfAnotherRecord() {
        var cache = ValueCache(bytesMax: 1 << 20)
        let moving = slot(at: 10)
        cache.insert([1, 2, 3], of: moving, readFrom: moving.entry)
        #expect(cache.value(of: moving) == [1, 2, 3])
        let before = moving.entry
        moving.entry = entry(at: 20)
        #expect(cache.value(of: moving) == nil, "the entry moved to another record")
        // A slow reader caches what it read from the old record after the move.
        cache.insert([9], of: moving, readFrom: before)
        #expect(cache.value(of: moving) == nil)
        cache.insert([4, 5], of: moving, readFrom: moving.entry)
        #expect(cache.value(of: moving) == [4, 5])
        #expect(cache.bytes == 2 + ValueCache.overheadBytes, "one slot is counted once")
        cache.removeAll()
        #expect(cache.value(of: moving) == nil && cache.bytes == 0)
    }

    @Test func engineServesCachedValuesAndStaysCorrectAcrossOverwriteAndCompaction() throws {
        let directory = TemporaryDirectory()
        var options = StorageOptions()
        options.fsync = .none
        options.segmentBytesMax = 2_048
        options.compactsAutomatically = false
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 0)
        for round in 0..<5 {
            for key in 0..<50 {
                _ = try engine.transaction(nowMillis: 1) {
                    try $0.set(bytes("k\(key)"), value: bytes("v\(key)-\(round)"))
                }
            }
        }
        _ = try engine.compact(nowMillis: 1)
        for key in 0..<50 {
            let value = try engine.get(bytes("k\(key)"), nowMillis: 1)
            #expect(value.map { String(decoding: $0.bytes, as: UTF8.self) } == "v\(key)-4")
        }
        let statistics = engine.statistics
        #expect(statistics.valueCacheHits + statistics.valueCacheMisses >= 50)
        #expect(statistics.valueCacheBytes > 0)
        try engine.close()
        let reopened = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 1)
        #expect(try reopened.get(bytes("k7"), nowMillis: 1).map(\.bytes) == bytes("v7-4"))
        #expect(reopened.statistics.valueCacheMisses == 1, "a fresh engine reads from disk")
        #expect(try reopened.get(bytes("k7"), nowMillis: 1).map(\.bytes) == bytes("v7-4"))
        #expect(reopened.statistics.valueCacheHits == 1, "and then from memory")
        try reopened.close()
    }
}
