import CohortCore
import Foundation
import Testing

@testable import CohortStorage

@Suite struct StorageBackgroundTests {
    @Test func backgroundWorkSweepsExpiredKeysAndCompacts() throws {
        let directory = TemporaryDirectory()
        var options = StorageOptions()
        options.fsync = .everysec
        options.segmentBytesMax = 1_024
        options.backgroundIntervalMillis = 10
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 0)
        defer { try? engine.close() }
        let now = StorageEngine.wallClockMillis()
        for round in 0..<4 {
            for number in 0..<20 {
                _ = try engine.transaction(nowMillis: now) {
                    try $0.set(bytes("key-\(number)"), value: bytes("value-\(round)"))
                }
            }
        }
        _ = try engine.transaction(nowMillis: now) {
            try $0.set(bytes("gone"), value: bytes("x"), expiresAtMillis: now + 1)
        }
        // everysec: durable at once from the caller's point of view.
        let outcome = OutcomeBox()
        engine.whenDurable(Commit(sequence: 1)) { outcome.set($0) }
        #expect(outcome.isSuccess)
        #expect(engine.statistics.diskBytes > 4_000)
        engine.startBackgroundWork()
        engine.startBackgroundWork()  // idempotent
        var waitedMillis = 0
        while waitedMillis < 5_000
            && (engine.keyCount != 20 || engine.statistics.compactions == 0)
        {
            usleep(10_000)
            waitedMillis += 10
        }
        let statistics = engine.statistics
        #expect(engine.keyCount == 20)
        #expect(statistics.expiredKeysSwept == 1)
        #expect(statistics.compactions > 0)
        #expect(!engine.hasCompactionCandidate())
        for number in 0..<20 {
            #expect(
                try engine.get(bytes("key-\(number)"), nowMillis: now)?.bytes == bytes("value-3"))
        }
    }

    /// A sealed segment that compaction is about to rewrite gets no hint file (scanning it for
    /// one was wasted work); one that compaction will not rewrite gets its hint.
    @Test func segmentsAboutToBeCompactedGetNoHint() throws {
        let directory = TemporaryDirectory()
        var options = StorageOptions()
        options.fsync = .none
        options.segmentBytesMax = 1_024
        // The background thread is started (so transactions leave hints to it) but sleeps;
        // the test runs its steps itself.
        options.backgroundIntervalMillis = 3_600_000
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 0)
        defer { try? engine.close() }
        engine.startBackgroundWork()
        for number in 0..<40 {
            _ = try engine.transaction(nowMillis: 1) {
                try $0.set(bytes("kept-\(number)"), value: bytes("value"))
            }
        }
        for round in 0..<3 {
            for number in 0..<20 {
                _ = try engine.transaction(nowMillis: 1) {
                    try $0.set(bytes("hot-\(number)"), value: bytes("value-\(round)"))
                }
            }
        }
        func hintedSegments() -> Set<String> {
            Set(directory.files.filter { $0.hasSuffix(".hint") }.map { String($0.dropLast(5)) })
        }
        engine.condition.lock()
        let sealed = engine.segments.values.filter(\.isSealed)
        let candidates = Set(
            sealed.filter { engine.isCandidateLocked($0) }.map { $0.file.name.dropLast(4) })
        let others = Set(
            sealed.filter { !engine.isCandidateLocked($0) }.map { $0.file.name.dropLast(4) })
        engine.condition.unlock()
        #expect(!candidates.isEmpty && !others.isEmpty)
        engine.writePendingHints()
        #expect(hintedSegments().isDisjoint(with: candidates.map(String.init)))
        #expect(Set(others.map(String.init)).isSubset(of: hintedSegments()))
        while engine.hasCompactionCandidate() { _ = try engine.compact(nowMillis: 1) }
        engine.writePendingHints()
        engine.condition.lock()
        #expect(engine.pendingHintSegments.isEmpty)
        engine.condition.unlock()
        for number in 0..<20 {
            #expect(try engine.get(bytes("hot-\(number)"), nowMillis: 1)?.bytes == bytes("value-2"))
        }
    }

    @Test func keptDeletionMarkersDoNotMakeCompactionChurn() throws {
        let directory = TemporaryDirectory()
        var options = StorageOptions()
        options.fsync = .none
        options.segmentBytesMax = 400
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 0)
        defer { try? engine.close() }
        // An old live version in the first segment keeps later markers necessary.
        _ = try engine.transaction(nowMillis: 1) { transaction in
            for number in 0..<4 { try transaction.set(bytes("keep-\(number)"), value: bytes("k")) }
        }
        for number in 0..<12 {
            _ = try engine.transaction(nowMillis: 1) {
                try $0.set(bytes("temp-\(number)"), value: bytes("t"))
            }
            _ = try engine.transaction(nowMillis: 1) { $0.delete(bytes("temp-\(number)")) }
        }
        let report = try engine.compact(nowMillis: 1)
        #expect(report.tombstonesKept > 0)
        #expect(!engine.hasCompactionCandidate())
        #expect(engine.keyCount == 4)
    }
}

/// The periodic threads sleep apart from the commit path; they must still do their work.
@Suite struct StoragePeriodicThreadTests {
    @Test(.timeLimit(.minutes(1)))
    func everysecThreadSyncsWhatWasCommitted() throws {
        let directory = TemporaryDirectory()
        var options = StorageOptions()
        options.fsync = .everysec
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 0)
        _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("k"), value: bytes("v")) }
        let written = engine.sequences
        #expect(written.committed > written.durable, "nothing is synced at commit under everysec")
        var waitedMillis = 0
        while engine.sequences.durable < written.committed && waitedMillis < 3_000 {
            usleep(50_000)
            waitedMillis += 50
        }
        #expect(engine.sequences.durable == written.committed, "the everysec thread never synced")
        #expect(engine.statistics.fsyncCount >= 1)
        try engine.close()
    }
}
