import CohortCore
import Foundation
import Testing

@testable import CohortStorage

/// `StorageOptions.defersAppendWrites`: under `.everysec` and `.none` commits wait in memory
/// until `writeAppends`; a failed write (a full disk) keeps them, blocks writes, and clears
/// itself once the write succeeds again.
@Suite struct DeferredAppendTests {
    static func options(_ fsync: FsyncPolicy) -> StorageOptions {
        var options = StorageOptions()
        options.fsync = fsync
        options.defersAppendWrites = true
        // No zeroes written ahead, so that the file's size is what was written to it.
        options.segmentPreallocationBytes = 0
        return options
    }

    static func fileSize(_ path: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? -1
    }

    @Test func commitsWaitInMemoryUntilWritten() throws {
        let directory = TemporaryDirectory()
        let options = Self.options(.none)
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options, nowMillis: 0)
            #expect(engine.acknowledgementPoint == .written)
            let before = try Self.fileSize(directory.file("seg-000001.log"))
            for number in 0..<10 {
                _ = try engine.transaction(nowMillis: 1) {
                    try $0.set(bytes("k\(number)"), value: bytes("v\(number)"))
                }
            }
            var sequences = engine.sequences
            #expect(sequences.committed == 10 && sequences.written == 0)
            #expect(engine.observedSequenceToAwait == 10)
            #expect(try Self.fileSize(directory.file("seg-000001.log")) == before)
            // Reads that miss the value cache find the records in memory.
            engine.condition.lock()
            engine.valueCache = ValueCache(bytesMax: 0)
            engine.condition.unlock()
            #expect(try engine.get(bytes("k3"), nowMillis: 1)?.bytes == bytes("v3"))
            let read = try engine.transaction(nowMillis: 1) { transaction in
                try transaction.get(bytes("k4"))?.bytes
            }
            #expect(read.result == bytes("v4"))

            try engine.writeAppends()
            sequences = engine.sequences
            #expect(sequences.written == sequences.committed)
            #expect(engine.observedSequenceToAwait == 0)
            #expect(try Self.fileSize(directory.file("seg-000001.log")) > before)
            try engine.writeAppends()  // nothing waits: no write, no error
            // Simulate a crash: the records reached the file, nothing was closed.
            try copyDirectory(directory.path, to: directory.path + "-crash")
            try engine.close()
        }
        let recovered = try StorageEngine.open(
            directory: directory.path + "-crash", options: options, nowMillis: 2)
        defer {
            try? recovered.close()
            try? FileManager.default.removeItem(atPath: directory.path + "-crash")
        }
        #expect(recovered.keyCount == 10)
        #expect(try recovered.get(bytes("k9"), nowMillis: 2)?.bytes == bytes("v9"))
    }

    /// A disk that fills: the tail stays in memory and readable, the file keeps only whole
    /// records, writes are refused, and once space is back the next write (or `writeAppends`)
    /// writes everything and the engine goes on; nothing committed is lost.
    @Test func failedWriteKeepsRecordsBlocksWritesAndRecovers() throws {
        let directory = TemporaryDirectory()
        let options = Self.options(.everysec)
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options, nowMillis: 0)
            _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("a"), value: bytes("1")) }
            try engine.writeAppends()
            let sizeBefore = try Self.fileSize(directory.file("seg-000001.log"))
            _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("b"), value: bytes("2")) }
            _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("a"), value: bytes("3")) }
            engine.condition.lock()
            engine.appendFailureForTesting = (bytesWritten: 30, error: .diskFull)
            engine.valueCache = ValueCache(bytesMax: 0)
            engine.condition.unlock()

            #expect(throws: StorageError.diskFull) { try engine.writeAppends() }
            // The partly written records were cut off.
            #expect(try Self.fileSize(directory.file("seg-000001.log")) == sizeBefore)
            #expect(engine.sequences.written == 1 && engine.sequences.committed == 3)
            #expect(engine.statistics.appendBlockedReason != nil)
            #expect(engine.statistics.appendsBlocked == 1)
            // Reads see the committed state, from memory.
            #expect(try engine.get(bytes("a"), nowMillis: 1)?.bytes == bytes("3"))
            #expect(try engine.get(bytes("b"), nowMillis: 1)?.bytes == bytes("2"))

            // Still full: a write is refused and changes nothing.
            engine.condition.lock()
            engine.appendFailureForTesting = (bytesWritten: 0, error: .diskFull)
            engine.condition.unlock()
            #expect(throws: StorageError.diskFull) {
                try engine.transaction(nowMillis: 1) { try $0.set(bytes("c"), value: bytes("x")) }
            }
            #expect(engine.sequences.committed == 3)
            #expect(try engine.get(bytes("c"), nowMillis: 1) == nil)

            // A snapshot taken while the tail cannot be written reads it from a copy.
            engine.condition.lock()
            engine.appendFailureForTesting = (bytesWritten: 0, error: .diskFull)
            engine.condition.unlock()
            let snapshot = engine.snapshot(nowMillis: 1)
            #expect(engine.statistics.appendBlockedReason != nil)
            #expect(snapshot.map(\.value.bytes) == [bytes("3"), bytes("2")])
            #expect(snapshot.readErrors.isEmpty)

            // Space is back: the next write first writes what waited.
            _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("c"), value: bytes("4")) }
            #expect(engine.statistics.appendBlockedReason == nil)
            #expect(engine.sequences.written >= 3)
            try engine.writeAppends()
            #expect(engine.sequences.written == 4)
            try copyDirectory(directory.path, to: directory.path + "-crash")
            try engine.close()
        }
        for path in [directory.path, directory.path + "-crash"] {
            let engine = try StorageEngine.open(directory: path, options: options, nowMillis: 2)
            #expect(engine.recovery.tornTail == nil && engine.recovery.corruptions.isEmpty)
            #expect(try engine.get(bytes("a"), nowMillis: 2)?.bytes == bytes("3"))
            #expect(try engine.get(bytes("b"), nowMillis: 2)?.bytes == bytes("2"))
            #expect(try engine.get(bytes("c"), nowMillis: 2)?.bytes == bytes("4"))
            try engine.close()
        }
        try? FileManager.default.removeItem(atPath: directory.path + "-crash")
    }

    /// Nobody calls `writeAppends`: the once-a-second thread writes and syncs the tail under
    /// `.everysec`, the background thread writes it under `.none`.
    @Test(.timeLimit(.minutes(1)), arguments: [FsyncPolicy.everysec, .none])
    func periodicThreadsWriteWhatWaits(_ fsync: FsyncPolicy) throws {
        let directory = TemporaryDirectory()
        var options = Self.options(fsync)
        options.backgroundIntervalMillis = 20
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 0)
        defer { try? engine.close() }
        if fsync == .none { engine.startBackgroundWork() }
        _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("k"), value: bytes("v")) }
        var waitedMillis = 0
        while engine.sequences.written < 1 && waitedMillis < 5_000 {
            usleep(20_000)
            waitedMillis += 20
        }
        #expect(engine.sequences.written == 1, "nothing wrote the deferred append")
        if fsync == .everysec {
            while engine.sequences.durable < 1 && waitedMillis < 5_000 {
                usleep(20_000)
                waitedMillis += 20
            }
            #expect(engine.sequences.durable == 1)
        }
    }

    /// A tail about to pass `appendTailBytesMax` is written before the next commit joins it.
    @Test func largeTailIsWrittenBeforeItGrowsPastItsBound() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: Self.options(.none), nowMillis: 0)
        defer { try? engine.close() }
        let value = [UInt8](repeating: 7, count: StorageEngine.appendTailBytesMax / 4)
        for number in 0..<4 {
            _ = try engine.transaction(nowMillis: 1) {
                try $0.set(bytes("k\(number)"), value: value)
            }
        }
        // The fourth commit would have taken the tail past the bound: the first three were
        // written before it joined.
        #expect(engine.sequences.written == 3)
        #expect(engine.sequences.committed == 4)
    }

    @Test func withoutDeferralCommitsAreWrittenAtOnce() throws {
        let directory = TemporaryDirectory()
        var options = Self.options(.everysec)
        options.defersAppendWrites = false
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 0)
        defer { try? engine.close() }
        #expect(engine.acknowledgementPoint == .commit)
        _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("k"), value: bytes("v")) }
        #expect(engine.sequences.written == 1)
        #expect(engine.observedSequenceToAwait == 0)
    }
}

/// Copies a data directory's files, as a crash would leave them.
func copyDirectory(_ source: String, to destination: String) throws {
    let manager = FileManager.default
    try? manager.removeItem(atPath: destination)
    try manager.createDirectory(atPath: destination, withIntermediateDirectories: true)
    for name in try manager.contentsOfDirectory(atPath: source) {
        try manager.copyItem(atPath: source + "/" + name, toPath: destination + "/" + name)
    }
}
