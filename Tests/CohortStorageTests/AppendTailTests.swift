import CohortCore
import Foundation
import Testing

@testable import CohortStorage

/// The `.batch` append tail (StorageEngine+AppendTail.swift): commits wait in memory for the
/// fsync that acknowledges them; reads serve them from memory, and whatever reads the file
/// outside the lock (a snapshot) or closes it gets them written first.
@Suite struct AppendTailTests {
    /// Batch policy, no value cache (so every read goes to the file), a slow fsync so that
    /// commits stay in the tail while the test looks.
    func openSlowBatchEngine(_ directory: TemporaryDirectory) throws -> StorageEngine {
        var options = StorageOptions()
        options.fsync = .batch
        // The file's size shows what was written only without zeroes written ahead.
        options.segmentPreallocationBytes = 0
        options.valueCacheBytesMax = 0
        options.compactsAutomatically = false
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 0)
        engine.condition.lock()
        engine.fsyncDelayMicrosForTesting = 200_000
        engine.condition.unlock()
        return engine
    }

    func fileSize(_ directory: TemporaryDirectory) throws -> Int {
        try FileManager.default.attributesOfItem(
            atPath: directory.file("seg-000001.log"))[.size] as? Int ?? -1
    }

    @Test func readsSnapshotsAndCloseSeeCommitsStillInTheTail() throws {
        let directory = TemporaryDirectory()
        do {
            let engine = try openSlowBatchEngine(directory)
            let first = try #require(
                try engine.transaction(nowMillis: 1) { try $0.set(bytes("a"), value: bytes("1")) }
                    .commit)
            // Let the group-commit thread write `first` and enter its slow fsync; the next
            // commits stay in memory meanwhile.
            usleep(50_000)
            _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("b"), value: bytes("2")) }
            _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("c"), value: bytes("3")) }
            #expect(try fileSize(directory) < engine.statistics.diskBytes)
            // A read of a value in the tail is served from memory, without writing the tail.
            #expect(try engine.get(bytes("c"), nowMillis: 1)?.bytes == bytes("3"))
            #expect(try fileSize(directory) < engine.statistics.diskBytes)

            // A snapshot, which reads files outside the lock, writes the tail first.
            _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("d"), value: bytes("4")) }
            let snapshot = engine.snapshot(nowMillis: 1)
            #expect(try fileSize(directory) == engine.statistics.diskBytes)
            #expect(try snapshot.get(bytes("d"))?.bytes == bytes("4"))

            let done = DispatchSemaphore(value: 0)
            engine.whenDurable(first) { _ in done.signal() }
            done.wait()
            _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("e"), value: bytes("5")) }
            try engine.close()
        }
        // Close wrote and synced the tail: a clean reopen (with or without the checkpoint)
        // has every commit.
        try FileManager.default.removeItem(atPath: directory.file(IndexCheckpoint.fileName))
        var options = StorageOptions()
        options.fsync = .batch
        options.segmentPreallocationBytes = 0
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 1)
        defer { try? engine.close() }
        #expect(engine.recovery.tornTail == nil && engine.recovery.corruptions.isEmpty)
        for (key, value) in [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5")] {
            #expect(try engine.get(bytes(key), nowMillis: 1)?.bytes == bytes(value))
        }
    }

    @Test func durabilityCoversWhatTheTailHeld() throws {
        let directory = TemporaryDirectory()
        let engine = try openSlowBatchEngine(directory)
        defer { try? engine.close() }
        var last: Commit?
        for index in 0..<50 {
            last = try engine.transaction(nowMillis: 1) {
                try $0.set(bytes("k\(index)"), value: bytes("v\(index)"))
            }.commit
        }
        let done = DispatchSemaphore(value: 0)
        engine.whenDurable(try #require(last)) { _ in done.signal() }
        done.wait()
        // Durable means written and synced: the file holds every record.
        #expect(try fileSize(directory) == engine.statistics.diskBytes)
    }
}
