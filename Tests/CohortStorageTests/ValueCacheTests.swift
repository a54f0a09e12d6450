import Foundation
import Testing

@testable import CohortStorage

@Suite struct ValueCacheTests {
    @Test func staysWithinItsByteBoundAndKeepsRecentlyUsedValues() {
        var cache = ValueCache(bytesMax: 64 * 100)
        let value = [UInt8](repeating: 7, count: 100)
        for location in 0..<1_000 as Range<UInt64> {
            cache.insert(value, at: location)
            // Keep touching location 0: CLOCK gives it a second chance every round.
            _ = cache.value(at: 0)
            #expect(cache.bytes <= 64 * 100)
        }
        #expect(cache.value(at: 0) == value, "a value used on every round is never evicted")
        #expect(cache.value(at: 999) == value, "the newest value is present")
        #expect(cache.value(at: 500) == nil, "old unused values were evicted")
    }

    @Test func refusesValuesTooLargeToShare() {
        var cache = ValueCache(bytesMax: 6_400)
        cache.insert([UInt8](repeating: 1, count: 101), at: 1)
        #expect(cache.value(at: 1) == nil)
        var disabled = ValueCache(bytesMax: 0)
        disabled.insert([1], at: 1)
        #expect(disabled.value(at: 1) == nil)
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
