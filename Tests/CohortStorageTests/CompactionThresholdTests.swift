import CohortCore
import Foundation
import Testing

@testable import CohortStorage

/// `StorageOptions.compactionGarbageBytesMin`: the background thread compacts only once the
/// segments that qualify by ratio hold enough dead bytes together.
@Suite struct CompactionThresholdTests {
    @Test func backgroundCompactionWaitsForEnoughDeadBytes() throws {
        let directory = TemporaryDirectory()
        var options = StorageOptions()
        options.fsync = .none
        options.segmentBytesMax = 1_024
        options.segmentPreallocationBytes = 0
        options.compactsAutomatically = false
        options.compactionGarbageBytesMin = 3_000
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 0)
        defer { try? engine.close() }
        func qualifyingGarbage() -> (segments: Int, bytes: Int) {
            engine.condition.lock()
            defer { engine.condition.unlock() }
            let qualifying = engine.segments.values.filter { engine.isCandidateLocked($0) }
            return (qualifying.count, qualifying.reduce(0) { $0 + $1.bytes - $1.liveBytes })
        }
        // The same ten keys over and over: every sealed segment soon holds only dead records.
        var round = 0
        while qualifyingGarbage().segments == 0 {
            for number in 0..<10 {
                _ = try engine.transaction(nowMillis: 1) {
                    try $0.set(bytes("k\(number)"), value: bytes("round-\(round)"))
                }
            }
            round += 1
        }
        // One segment qualifies by ratio, but holds fewer dead bytes than the threshold.
        #expect(qualifyingGarbage().bytes < 3_000)
        #expect(!engine.hasCompactionCandidate())
        while qualifyingGarbage().bytes < 3_000 {
            for number in 0..<10 {
                _ = try engine.transaction(nowMillis: 1) {
                    try $0.set(bytes("k\(number)"), value: bytes("round-\(round)"))
                }
            }
            round += 1
        }
        #expect(engine.hasCompactionCandidate())
        let before = engine.statistics.diskBytes
        let report = try engine.compact(nowMillis: 1)
        #expect(report.bytesReclaimed > 0)
        #expect(engine.statistics.diskBytes < before)
        #expect(!engine.hasCompactionCandidate())
        for number in 0..<10 {
            #expect(
                try engine.get(bytes("k\(number)"), nowMillis: 1)?.bytes
                    == bytes("round-\(round - 1)"))
        }
    }

    @Test func thresholdDefaultsToAQuarterSegment() throws {
        let directory = TemporaryDirectory()
        var options = StorageOptions()
        options.segmentBytesMax = 4_096
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 0)
        defer { try? engine.close() }
        #expect(engine.compactionGarbageBytesMin == 1_024)
    }
}
