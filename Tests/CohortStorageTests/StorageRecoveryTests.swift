import CohortCore
import Foundation
import Testing

@testable import CohortStorage

@Suite struct StorageRecoveryTests {
    func options(segmentBytesMax: Int = 64 << 20) -> StorageOptions {
        var options = StorageOptions()
        options.fsync = .none
        options.segmentBytesMax = segmentBytesMax
        return options
    }

    /// Writes `a`, `b`, `c` in three transactions plus a two-key group `d`,`e`; returns the
    /// offset where each transaction starts and the file length.
    func writeFixture(_ directory: TemporaryDirectory) throws -> (starts: [Int], end: Int) {
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 0)
        for name in ["a", "b", "c"] {
            _ = try engine.transaction(nowMillis: 1) {
                try $0.set(bytes(name), value: bytes("value-\(name)"))
            }
        }
        _ = try engine.transaction(nowMillis: 1) { transaction in
            try transaction.set(bytes("d"), value: bytes("value-d"))
            try transaction.set(bytes("e"), value: bytes("value-e"))
        }
        try engine.close()
        let recordLength = RecordCodec.headerBytes + 1 + 7
        return ([0, recordLength, 2 * recordLength, 3 * recordLength], 5 * recordLength)
    }

    func values(_ engine: StorageEngine) throws -> [String: String] {
        var result: [String: String] = [:]
        for name in ["a", "b", "c", "d", "e"] {
            if let value = try engine.get(bytes(name), nowMillis: 1) {
                result[name] = String(decoding: value.bytes, as: UTF8.self)
            }
        }
        return result
    }

    @Test func tornTailIsCutAtEveryByteOffset() throws {
        let directory = TemporaryDirectory()
        let (starts, end) = try writeFixture(directory)
        let segment = directory.file("seg-000001.log")
        let original = try Data(contentsOf: URL(fileURLWithPath: segment))
        #expect(original.count == end)
        // Cut anywhere inside the last (two-record) transaction: it disappears entirely.
        for length in (starts[3] + 1)..<end {
            try original.prefix(length).write(to: URL(fileURLWithPath: segment))
            let engine = try StorageEngine.open(
                directory: directory.path, options: options(), nowMillis: 1)
            let tail = try #require(engine.recovery.tornTail)
            #expect(tail.file == "seg-000001.log")
            #expect(tail.offset == starts[3])
            #expect(tail.bytesDropped == length - starts[3])
            #expect(engine.recovery.corruptions.isEmpty)
            #expect(
                try values(engine) == ["a": "value-a", "b": "value-b", "c": "value-c"])
            try engine.close()
            // Appending continues after the cut (checked at a few offsets: fsyncs are slow).
            guard length % 16 == 0 else { continue }
            let appending = try StorageEngine.open(
                directory: directory.path, options: options(), nowMillis: 1)
            _ = try appending.transaction(nowMillis: 2) {
                try $0.set(bytes("d"), value: bytes("new"))
            }
            try appending.close()
            let reopened = try StorageEngine.open(
                directory: directory.path, options: options(), nowMillis: 2)
            #expect(reopened.recovery.tornTail == nil)
            #expect(try reopened.get(bytes("d"), nowMillis: 2)?.bytes == bytes("new"))
            try reopened.close()
        }
    }

    @Test func corruptMiddleRecordIsReportedAndSkipped() throws {
        let directory = TemporaryDirectory()
        let (starts, _) = try writeFixture(directory)
        let segment = directory.file("seg-000001.log")
        var data = try Data(contentsOf: URL(fileURLWithPath: segment))
        data[starts[1] + RecordCodec.headerBytes + 3] ^= 0xFF  // inside b's value
        try data.write(to: URL(fileURLWithPath: segment))
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 1)
        defer { try? engine.close() }
        #expect(engine.recovery.tornTail == nil)
        #expect(
            engine.recovery.corruptions.map { "\($0.file)@\($0.offset)" } == [
                "seg-000001.log@\(starts[1])"
            ])
        #expect(
            try values(engine) == [
                "a": "value-a", "c": "value-c", "d": "value-d", "e": "value-e",
            ])
    }

    @Test func corruptRecordInsideGroupDropsTheWholeGroup() throws {
        let directory = TemporaryDirectory()
        let (starts, end) = try writeFixture(directory)
        // Add one more transaction after the group so the damage is not a tail.
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options(), nowMillis: 1)
            _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("f"), value: bytes("f")) }
            try engine.close()
        }
        let segment = directory.file("seg-000001.log")
        var data = try Data(contentsOf: URL(fileURLWithPath: segment))
        data[end - 2] ^= 0x01  // inside e, the second record of the d+e group
        try data.write(to: URL(fileURLWithPath: segment))
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 1)
        defer { try? engine.close() }
        #expect(engine.recovery.corruptions.first?.offset == starts[3])
        #expect(try values(engine) == ["a": "value-a", "b": "value-b", "c": "value-c"])
        #expect(try engine.get(bytes("f"), nowMillis: 1)?.bytes == bytes("f"))
    }

    @Test func restartUsesHintFilesAndFallsBackWhenOneIsCorrupt() throws {
        let directory = TemporaryDirectory()
        let count = 300
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options(segmentBytesMax: 2_048), nowMillis: 0)
            for number in 0..<count {
                _ = try engine.transaction(nowMillis: 1) { transaction in
                    try transaction.set(bytes("key-\(number)"), value: bytes("value-\(number)"))
                    if number % 10 == 0 { transaction.delete(bytes("key-\(number - 5)")) }
                }
            }
            try engine.close()
        }
        let hints = directory.files.filter { $0.hasSuffix(".hint") }
        #expect(hints.count >= 5)
        func check(_ engine: StorageEngine) throws {
            #expect(engine.keyCount == count - (count / 10 - 1))
            for number in 0..<count {
                let expected = number % 10 == 5 && number + 5 < count ? nil : "value-\(number)"
                let value = try engine.get(bytes("key-\(number)"), nowMillis: 1)
                #expect(value.map { String(decoding: $0.bytes, as: UTF8.self) } == expected)
            }
        }
        // A clean close leaves an index checkpoint; remove it so that this test exercises the
        // hint files (IndexCheckpointTests covers the checkpoint).
        try? FileManager.default.removeItem(atPath: directory.file("index.checkpoint"))
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options(segmentBytesMax: 2_048), nowMillis: 1)
            #expect(engine.recovery.hintFilesUsed == hints.count)
            #expect(engine.recovery.segmentsScanned == 1)
            try check(engine)
            try engine.close()
        }
        // A damaged hint is rejected and its segment scanned; the result is the same.
        try? FileManager.default.removeItem(atPath: directory.file("index.checkpoint"))
        let damaged = directory.file(hints[1])
        var data = try Data(contentsOf: URL(fileURLWithPath: damaged))
        data[data.count / 2] ^= 0x10
        try data.write(to: URL(fileURLWithPath: damaged))
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(segmentBytesMax: 2_048), nowMillis: 1)
        defer { try? engine.close() }
        #expect(engine.recovery.hintFilesRejected == [hints[1]])
        #expect(engine.recovery.segmentsScanned == 2)
        try check(engine)
    }

    @Test func flushAllSurvivesRestart() throws {
        let directory = TemporaryDirectory()
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options(segmentBytesMax: 1_024), nowMillis: 0)
            for number in 0..<50 {
                _ = try engine.transaction(nowMillis: 1) {
                    try $0.set(bytes("old-\(number)"), value: bytes("x"))
                }
            }
            _ = try engine.flushAll()
            #expect(engine.keyCount == 0)
            _ = try engine.transaction(nowMillis: 2) { try $0.set(bytes("new"), value: bytes("y")) }
            try engine.close()
        }
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(segmentBytesMax: 1_024), nowMillis: 3)
        defer { try? engine.close() }
        #expect(engine.scan(after: nil, count: 100, nowMillis: 3).keys == [bytes("new")])
        #expect(engine.statistics.liveBytes == RecordCodec.headerBytes + 3 + 1)
    }

    @Test func sequencesKeepIncreasingAcrossRestarts() throws {
        let directory = TemporaryDirectory()
        var last: UInt64 = 0
        for round in 0..<3 {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options(), nowMillis: 0)
            let commit = try engine.transaction(nowMillis: 1) {
                try $0.set(bytes("k"), value: bytes("\(round)"))
            }.commit
            let sequence = try #require(commit).sequence
            #expect(sequence > last)
            last = sequence
            try engine.close()
        }
    }
}
