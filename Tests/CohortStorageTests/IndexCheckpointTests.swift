import CohortCore
import Foundation
import Testing

@testable import CohortStorage

/// A clean close writes an index checkpoint that the next open loads instead of reading every
/// record; it must give exactly the state a full recovery would, and never be trusted when the
/// files changed.
@Suite struct IndexCheckpointTests {
    func options() -> StorageOptions {
        var options = StorageOptions()
        options.fsync = .none
        options.segmentBytesMax = 4_096
        options.compactsAutomatically = false
        return options
    }

    /// Writes keys across several segments, with deletes and expiries; returns what must be live.
    func populate(_ directory: TemporaryDirectory) throws -> [String: String] {
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 0)
        var expected: [String: String] = [:]
        for index in 0..<400 {
            let key = "key:\(index % 150)"
            let value = "value-\(index)"
            _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes(key), value: bytes(value)) }
            expected[key] = value
        }
        for index in stride(from: 0, to: 150, by: 7) {
            _ = try engine.transaction(nowMillis: 1) { $0.delete(bytes("key:\(index)")) }
            expected["key:\(index)"] = nil
        }
        _ = try engine.transaction(nowMillis: 1) {
            try $0.set(bytes("short-lived"), value: bytes("x"), expiresAtMillis: 500)
        }
        try engine.close()
        return expected
    }

    func contents(_ engine: StorageEngine, nowMillis: UInt64) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in engine.snapshot(nowMillis: nowMillis) {
            result[String(decoding: key, as: UTF8.self)] = String(
                decoding: value.bytes, as: UTF8.self)
        }
        return result
    }

    @Test func cleanRestartLoadsTheCheckpointAndMatchesAFullRecovery() throws {
        let directory = TemporaryDirectory()
        let expected = try populate(directory)
        #expect(directory.files.contains(IndexCheckpoint.fileName))

        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 1_000)
        #expect(engine.recovery.indexCheckpointUsed)
        #expect(
            !directory.files.contains(IndexCheckpoint.fileName), "a loaded checkpoint is deleted")
        #expect(contents(engine, nowMillis: 1_000) == expected, "expired key gone, deletes kept")
        // The engine keeps working after a checkpoint load: writes, then a crash-style reopen.
        _ = try engine.transaction(nowMillis: 1_000) {
            try $0.set(bytes("after"), value: bytes("yes"))
        }
        let live = engine.statistics.liveBytes
        #expect(live > 0)
        try engine.close()
        try FileManager.default.removeItem(atPath: directory.file(IndexCheckpoint.fileName))
        let full = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 1_000)
        #expect(!full.recovery.indexCheckpointUsed)
        var withAfter = expected
        withAfter["after"] = "yes"
        #expect(contents(full, nowMillis: 1_000) == withAfter)
        #expect(
            full.statistics.liveBytes == live, "checkpoint and full recovery agree on live bytes")
        try full.close()
    }

    @Test func aCheckpointIsNotTrustedWhenASegmentChanged() throws {
        let directory = TemporaryDirectory()
        _ = try populate(directory)
        // Flip one byte inside the active segment (the one recovery scans; sealed segments are
        // read through their hints): same size, different contents.
        let segment = directory.files.filter { $0.hasSuffix(".log") }.last!
        let handle = FileHandle(forUpdatingAtPath: directory.file(segment))!
        handle.seek(toFileOffset: 20)
        let original = handle.readData(ofLength: 1)
        handle.seek(toFileOffset: 20)
        handle.write(Data([original[0] ^ 0xFF]))
        handle.closeFile()

        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 1_000)
        #expect(!engine.recovery.indexCheckpointUsed)
        #expect(!engine.recovery.corruptions.isEmpty, "the full recovery reports the damage")
        try engine.close()
    }

    @Test func aCheckpointIsNotTrustedWhenASegmentGrew() throws {
        let directory = TemporaryDirectory()
        _ = try populate(directory)
        let active = directory.files.filter { $0.hasSuffix(".log") }.last!
        let handle = FileHandle(forUpdatingAtPath: directory.file(active))!
        handle.seekToEndOfFile()
        handle.write(Data([1, 2, 3]))
        handle.closeFile()
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 1_000)
        #expect(!engine.recovery.indexCheckpointUsed)
        #expect(engine.recovery.tornTail != nil)
        try engine.close()
    }

    @Test func bulkLoadedTreeAnswersLikeAnIncrementalOne() {
        var generator = SplitMix64(seed: 9)
        let keys = Set(
            (0..<5_000).map { _ in
                (0..<Int.random(in: 1...12, using: &generator)).map { _ in
                    UInt8.random(in: 0...255, using: &generator)
                }
            }
        ).sorted { OrderedIndex.compare($0, $1) < 0 }
        let entries = keys.indices.map { position in
            IndexEntry(
                segmentID: 1, offset: UInt64(position), recordLength: 1,
                metadata: VersionMetadata(
                    sequence: UInt64(position + 1), timestamp: .zero, origin: NodeID(1),
                    isTombstone: false, type: .string, expiresAtMillis: 0))
        }
        var bulk = OrderedIndex(
            sortedSlots: zip(keys, entries).map {
                IndexSlot.make(key: $0, entry: $1, generation: 0)
            })
        #expect(bulk.count == keys.count)
        for (key, entry) in zip(keys, entries) { #expect(bulk.get(key) == entry) }
        var iterated: [[UInt8]] = []
        var iterator = bulk.makeIterator()
        while let (key, _) = iterator.next() { iterated.append(key) }
        #expect(iterated == keys)
        // Inserts and removals after a bulk load keep the tree correct.
        for key in keys.prefix(1_000) { bulk.remove(key) }
        bulk.insert(
            [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            entries[0])
        #expect(bulk.count == keys.count - 1_000 + 1)
        #expect(bulk.get(keys[0]) == nil)
        #expect(bulk.get(keys[1_500]) == entries[1_500])
    }
}
