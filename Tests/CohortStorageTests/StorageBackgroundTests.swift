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
