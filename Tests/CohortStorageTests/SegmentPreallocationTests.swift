import CohortCore
import Foundation
import Synchronization
import Testing

@testable import CohortStorage

/// Zeroes written ahead of the active segment (`StorageOptions.segmentPreallocationBytes`)
/// are neither data nor damage: they are cut when a segment is sealed or closed, and after a
/// crash recovery recognises them, reports nothing and loses nothing.
@Suite struct SegmentPreallocationTests {
    static let step = 64 << 10

    func options(_ fsync: FsyncPolicy, segmentBytesMax: Int = 64 << 20) -> StorageOptions {
        var options = StorageOptions()
        options.fsync = fsync
        options.segmentBytesMax = segmentBytesMax
        options.segmentPreallocationBytes = Self.step
        options.compactsAutomatically = false
        return options
    }

    /// Commits `count` keys and waits until they are durable.
    func write(_ engine: StorageEngine, _ count: Int, from first: Int = 0) throws {
        var last: Commit?
        for index in first..<(first + count) {
            let (_, commit) = try engine.transaction(nowMillis: 1) {
                try $0.set(bytes("key\(index)"), value: bytes("value\(index)"))
            }
            last = commit
        }
        guard let last else { return }
        let done = Mutex(false)
        engine.whenDurable(last) { _ in done.withLock { $0 = true } }
        while !done.withLock({ $0 }) { usleep(1_000) }
    }

    func fileSize(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
    }

    func logFiles(_ directory: TemporaryDirectory) -> [String] {
        directory.files.filter { $0.hasSuffix(".log") }
    }

    /// Copies the data files as a crash would leave them: written, never closed.
    func crashImage(of directory: TemporaryDirectory) throws -> TemporaryDirectory {
        let image = TemporaryDirectory()
        for name in directory.files {
            try FileManager.default.copyItem(atPath: directory.file(name), toPath: image.file(name))
        }
        return image
    }

    @Test(arguments: [FsyncPolicy.batch, .none])
    func zeroesAheadAreCutOnCloseAndRecognisedAfterACrash(fsync: FsyncPolicy) throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(fsync), nowMillis: 0)
        try write(engine, 100)
        let active = try #require(logFiles(directory).last)
        let records = engine.statistics.diskBytes
        // The file runs past its records (at most a preallocation step), with zeroes.
        let data = try Data(contentsOf: URL(fileURLWithPath: directory.file(active)))
        #expect(data.count > records && data.count <= records + Self.step)
        #expect(data[records...].allSatisfy { $0 == 0 })
        let image = try crashImage(of: directory)
        let recovered = try StorageEngine.open(
            directory: image.path, options: options(fsync), nowMillis: 1)
        #expect(recovered.recovery.tornTail == nil)
        #expect(recovered.recovery.corruptions.isEmpty)
        #expect(recovered.keyCount == 100)
        #expect(try recovered.get(bytes("key99"), nowMillis: 1)?.bytes == bytes("value99"))
        #expect(try fileSize(image.file(active)) == records)
        // Appending goes on where the records end, and survives a clean restart.
        try write(recovered, 10, from: 100)
        try recovered.close()
        let reopened = try StorageEngine.open(
            directory: image.path, options: options(fsync), nowMillis: 1)
        #expect(reopened.keyCount == 110)
        #expect(try reopened.get(bytes("key105"), nowMillis: 1)?.bytes == bytes("value105"))
        try reopened.close()
        try engine.close()
        #expect(try fileSize(directory.file(active)) == records)
    }

    @Test func sealedSegmentsEndWithTheirRecords() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(.batch, segmentBytesMax: 16 << 10),
            nowMillis: 0)
        defer { try? engine.close() }
        try write(engine, 2_000)
        let files = logFiles(directory)
        #expect(files.count > 2)
        for name in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: directory.file(name)))
            let scan = data.withUnsafeBytes {
                SegmentScanner.scan($0, keyBytesMax: 64, valueBytesMax: 64)
            }
            #expect(scan.tail == nil && scan.corruptions.isEmpty, "\(name)")
            // Only the active segment has zeroes after its records.
            #expect((scan.zeroesFrom != nil) == (name == files.last), "\(name)")
        }
    }

    @Test func scannerTellsZeroesFromATornRecord() throws {
        var records: [UInt8] = []
        var metadata = VersionMetadata(
            sequence: 1, timestamp: HLCTimestamp(physicalMillis: 1, logical: 0), origin: NodeID(1),
            isTombstone: false, type: .string, expiresAtMillis: 0)
        RecordCodec.encode(
            key: bytes("a"), value: [1], metadata: metadata, groupRecords: 1, into: &records)
        metadata.sequence = 2
        var second: [UInt8] = []
        RecordCodec.encode(
            key: bytes("b"), value: [2], metadata: metadata, groupRecords: 1, into: &second)
        let zeroes = [UInt8](repeating: 0, count: 4_096)
        func scan(_ bytes: [UInt8]) -> SegmentScan {
            bytes.withUnsafeBytes { SegmentScanner.scan($0, keyBytesMax: 8, valueBytesMax: 8) }
        }
        // Records, then zeroes to the end: preallocated space.
        let clean = scan(records + zeroes)
        #expect(clean.zeroesFrom == records.count && clean.tail == nil)
        #expect(clean.corruptions.isEmpty && clean.validEnd == records.count)
        // Half a record before the zeroes: a torn tail, reported.
        let torn = scan(records + second.prefix(second.count / 2) + zeroes)
        #expect(torn.zeroesFrom == nil)
        #expect(torn.tail?.offset == records.count)
        // Zeroes with a record after them: damage in the middle, reported and skipped.
        let hole = scan(records + zeroes + second)
        #expect(hole.zeroesFrom == nil && hole.tail == nil)
        #expect(hole.corruptions.map(\.offset) == [records.count])
        #expect(hole.records.map(\.key) == [bytes("a"), bytes("b")])
    }

    /// A preallocation that fails (a full disk) costs nothing but the preallocation: the zeroes
    /// written before the failure are cut, the segment is not extended again, every record is
    /// there, and a restart reports nothing.
    @Test func aFailedPreallocationLosesNothing() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(.batch), nowMillis: 0)
        engine.preallocationFailsForTesting = true
        try write(engine, 50)
        let active = try #require(logFiles(directory).last)
        #expect(try fileSize(directory.file(active)) == engine.statistics.diskBytes)
        engine.preallocationFailsForTesting = false
        try write(engine, 50, from: 50)
        // Not extended again after the failure.
        #expect(try fileSize(directory.file(active)) == engine.statistics.diskBytes)
        #expect(try engine.get(bytes("key77"), nowMillis: 1)?.bytes == bytes("value77"))
        try engine.close()
        let reopened = try StorageEngine.open(
            directory: directory.path, options: options(.batch), nowMillis: 1)
        defer { try? reopened.close() }
        #expect(reopened.recovery.tornTail == nil && reopened.recovery.corruptions.isEmpty)
        #expect(reopened.keyCount == 100)
    }
}
