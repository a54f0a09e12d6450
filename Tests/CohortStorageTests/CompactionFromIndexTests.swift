import CohortCore
import Foundation
import Testing

@testable import CohortStorage

/// Compaction finds the live records of a segment that holds only plain values from the index
/// instead of scanning it (`SegmentState.mayHoldDeletions`); a segment that may hold a record
/// acting as a deletion is still scanned, so that the deletion is kept while an older version
/// of its key survives elsewhere.
@Suite struct CompactionFromIndexTests {
    static func options() -> StorageOptions {
        var options = StorageOptions()
        options.fsync = .none
        options.segmentBytesMax = 4_096
        options.segmentPreallocationBytes = 0
        options.compactsAutomatically = false
        options.compactionGarbageBytesMin = 1
        return options
    }

    static func activeSegment(_ engine: StorageEngine) -> SegmentState? {
        engine.condition.lock()
        defer { engine.condition.unlock() }
        return engine.segments[engine.activeID]
    }

    static func sealedSegments(_ engine: StorageEngine) -> [SegmentState] {
        engine.condition.lock()
        defer { engine.condition.unlock() }
        return engine.segments.values.filter(\.isSealed)
    }

    /// Which writes mark the segment they land in.
    @Test func onlyRecordsThatActAsDeletionsMarkASegment() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: Self.options(), nowMillis: 0)
        defer { try? engine.close() }
        #expect(Self.activeSegment(engine)?.mayHoldDeletions == false)
        _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("a"), value: bytes("1")) }
        #expect(Self.activeSegment(engine)?.mayHoldDeletions == false)
        _ = try engine.transaction(nowMillis: 1) {
            try $0.set(bytes("b"), value: bytes("2"), expiresAtMillis: 1_000)
        }
        #expect(Self.activeSegment(engine)?.mayHoldDeletions == true)

        for write in ["delete", "clear"] {
            let other = TemporaryDirectory()
            let engine = try StorageEngine.open(
                directory: other.path, options: Self.options(), nowMillis: 0)
            defer { try? engine.close() }
            _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("a"), value: bytes("1")) }
            if write == "delete" {
                _ = try engine.transaction(nowMillis: 1) { $0.delete(bytes("a")) }
            } else {
                _ = try engine.flushAll()
            }
            #expect(Self.activeSegment(engine)?.mayHoldDeletions == true, "\(write)")
        }
    }

    /// Many thousands of keys (the index is walked over several holds of the lock) while a
    /// writer inserts new keys and overwrites old ones: every segment compacted is compacted
    /// from the index, and every key ends with its last value, before and after a clean
    /// restart (the flag travels in the index checkpoint) and a crash (it is rebuilt from the
    /// hint files).
    @Test func valuesOnlySegmentsAreCompactedFromTheIndexWhileWritesGoOn() throws {
        let directory = TemporaryDirectory()
        let options = Self.options()
        let keyCount = 3 * StorageEngine.compactionWalkBatch
        var expected: [String: String] = [:]
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 0)
        for start in stride(from: 0, to: keyCount, by: 100) {
            _ = try engine.transaction(nowMillis: 1) { transaction in
                for number in start..<min(start + 100, keyCount) {
                    try transaction.set(bytes("key-\(number)"), value: bytes("first-\(number)"))
                }
            }
        }
        for number in 0..<keyCount { expected["key-\(number)"] = "first-\(number)" }
        // Two thirds of the keys overwritten: most early segments become candidates.
        for number in 0..<keyCount where number % 3 != 0 {
            _ = try engine.transaction(nowMillis: 1) {
                try $0.set(bytes("key-\(number)"), value: bytes("second-\(number)"))
            }
            expected["key-\(number)"] = "second-\(number)"
        }
        #expect(engine.hasCompactionCandidate())

        let writerDone = DispatchSemaphore(value: 0)
        let writerFailed = ErrorBox()
        let newKeys = keyCount / 2
        Thread.detachNewThread {
            defer { writerDone.signal() }
            do {
                for number in 0..<newKeys {
                    // New keys between the old ones split leaves the walk has passed and not.
                    _ = try engine.transaction(nowMillis: 1) { transaction in
                        try transaction.set(bytes("key-\(number)+"), value: bytes("new"))
                        try transaction.set(bytes("key-\(number * 2)"), value: bytes("third"))
                    }
                }
            } catch {
                writerFailed.set(error)
            }
        }
        var compacted = 0
        var fromIndex = 0
        var writerRunning = true
        while writerRunning || engine.hasCompactionCandidate() {
            let report = try engine.compact(nowMillis: 1)
            compacted += report.segmentsCompacted.count
            fromIndex += report.segmentsFromIndex
            #expect(report.segmentsFromIndex == report.segmentsCompacted.count)
            #expect(report.segmentsSkipped.isEmpty)
            if writerRunning && writerDone.wait(timeout: .now()) == .success {
                writerRunning = false
            }
        }
        #expect(writerFailed.error == nil)
        #expect(compacted > 0 && fromIndex == compacted)
        for number in 0..<newKeys {
            expected["key-\(number)+"] = "new"
            expected["key-\(number * 2)"] = "third"
        }

        func expectContents(_ engine: StorageEngine, _ label: String) throws {
            #expect(engine.keyCount == expected.count, "\(label)")
            var mismatches = 0
            for (key, value) in expected
            where try engine.get(bytes(key), nowMillis: 1)?.bytes != bytes(value) {
                mismatches += 1
            }
            #expect(mismatches == 0, "\(label)")
            LiveBytesTests.expectLiveBytesMatchIndex(engine)
            #expect(
                Self.sealedSegments(engine).allSatisfy { !$0.mayHoldDeletions }, "\(label)")
        }
        try expectContents(engine, "after compaction")
        let crashed = directory.path + "-crash"
        try copyDirectory(directory.path, to: crashed)
        defer { try? FileManager.default.removeItem(atPath: crashed) }
        try engine.close()

        let reopened = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 1)
        #expect(reopened.recovery.indexCheckpointUsed)
        try expectContents(reopened, "after a clean restart")
        try reopened.close()
        let recovered = try StorageEngine.open(directory: crashed, options: options, nowMillis: 1)
        defer { try? recovered.close() }
        #expect(!recovered.recovery.indexCheckpointUsed)
        try expectContents(recovered, "after a crash")
    }

    enum Deletion: String, CaseIterable, CustomTestStringConvertible {
        /// A deletion marker.
        case delete
        /// A version with an expiry, expired and swept from the index (no marker is written).
        case expiry

        var testDescription: String { rawValue }
    }

    /// A segment holding the only trace of a key's deletion, over an older segment that still
    /// holds the key's old value, is scanned, keeps the deletion, and the old value does not
    /// come back after a crash. Compacted from the index instead, the deletion (in no index
    /// entry) would be dropped with the segment.
    @Test(arguments: Deletion.allCases)
    func segmentsWithDeletionsAreScannedAndNothingResurrects(_ deletion: Deletion) throws {
        let directory = TemporaryDirectory()
        let options = Self.options()
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 0)
        func writeUntilRotation(_ prefix: String) throws {
            let segments = engine.statistics.segmentCount
            var number = 0
            while engine.statistics.segmentCount == segments {
                _ = try engine.transaction(nowMillis: 1) {
                    try $0.set(bytes("\(prefix)-\(number % 40)"), value: bytes("value-\(number)"))
                }
                number += 1
            }
        }
        // Segment A: the victim's old value among anchors that stay live, so that A never
        // qualifies for compaction.
        _ = try engine.transaction(nowMillis: 1) {
            try $0.set(bytes("victim"), value: bytes("old"))
        }
        try writeUntilRotation("anchor")
        // Segment B: the deletion among fillers, which are then overwritten until B is dead.
        let holder = try #require(Self.activeSegment(engine)).file.name
        switch deletion {
        case .delete:
            _ = try engine.transaction(nowMillis: 1) { $0.delete(bytes("victim")) }
        case .expiry:
            _ = try engine.transaction(nowMillis: 1) {
                try $0.set(bytes("victim"), value: bytes("new"), expiresAtMillis: 5)
            }
        }
        #expect(Self.activeSegment(engine)?.mayHoldDeletions == true)
        try writeUntilRotation("filler")
        try writeUntilRotation("filler")
        if deletion == .expiry { #expect(engine.sweepExpired(nowMillis: 10, keysMax: 1_000) == 1) }

        var compactedHolder = false
        while engine.hasCompactionCandidate() {
            let report = try engine.compact(nowMillis: 10)
            if report.segmentsCompacted.contains(holder) {
                compactedHolder = true
                #expect(report.segmentsFromIndex < report.segmentsCompacted.count)
                #expect(report.tombstonesKept >= 1)
            }
        }
        #expect(compactedHolder)
        #expect(try engine.get(bytes("victim"), nowMillis: 10) == nil)
        let crashed = directory.path + "-crash"
        try copyDirectory(directory.path, to: crashed)
        defer { try? FileManager.default.removeItem(atPath: crashed) }
        try engine.close()
        let recovered = try StorageEngine.open(directory: crashed, options: options, nowMillis: 10)
        defer { try? recovered.close() }
        #expect(try recovered.get(bytes("victim"), nowMillis: 10) == nil)
        #expect(try recovered.get(bytes("anchor-0"), nowMillis: 10) != nil)
    }
}

/// The first error a background thread of a test met.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?

    func set(_ error: any Error) {
        lock.lock()
        defer { lock.unlock() }
        if stored == nil { stored = error }
    }

    var error: (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}

/// A damaged record among those a compaction finds from the index: the run fails with the
/// file and offset, changes nothing, and the segment is quarantined (kept for inspection, never
/// chosen again until a restart) while the other keys stay readable.
@Suite struct CompactionFromIndexDamageTests {
    @Test func aDamagedLiveRecordQuarantinesItsSegment() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: CompactionFromIndexTests.options(), nowMillis: 0)
        defer { try? engine.close() }
        // The first segment: ten keys that stay, then fillers overwritten until it qualifies.
        for number in 0..<10 {
            _ = try engine.transaction(nowMillis: 1) {
                try $0.set(bytes("kept-\(number)"), value: bytes("value-\(number)"))
            }
        }
        var round = 0
        while engine.statistics.segmentCount < 4 {
            for number in 0..<20 {
                _ = try engine.transaction(nowMillis: 1) {
                    try $0.set(bytes("filler-\(number)"), value: bytes("round-\(round)"))
                }
            }
            round += 1
        }
        #expect(engine.hasCompactionCandidate())
        engine.condition.lock()
        let entry = try #require(engine.index.get(bytes("kept-3")))
        let state = try #require(engine.segments[entry.segmentID])
        engine.condition.unlock()
        #expect(!state.mayHoldDeletions && state.isSealed)
        // Flip one byte of the kept record's value.
        let handle = try #require(FileHandle(forUpdatingAtPath: state.file.path))
        let valueOffset = UInt64(entry.offset) + UInt64(entry.recordLength) - 1
        try handle.seek(toOffset: valueOffset)
        let byte = try #require(try handle.read(upToCount: 1)).first ?? 0
        try handle.seek(toOffset: valueOffset)
        try handle.write(contentsOf: [byte ^ 0xFF])
        try handle.close()

        #expect {
            _ = try engine.compact(nowMillis: 1)
        } throws: { error in
            if case .corrupt(let file, let offset, _) = error as? StorageError {
                return file == state.file.name && offset == Int(entry.offset)
            }
            return false
        }
        engine.condition.lock()
        let after = engine.segments[entry.segmentID]
        engine.condition.unlock()
        #expect(after?.isQuarantined == true)
        #expect(FileManager.default.fileExists(atPath: state.file.path))
        // Later runs leave it alone and compact the rest.
        while engine.hasCompactionCandidate() {
            let report = try engine.compact(nowMillis: 1)
            #expect(!report.segmentsCompacted.contains(state.file.name))
            if report.segmentsCompacted.isEmpty { break }
        }
        #expect(FileManager.default.fileExists(atPath: state.file.path))
        #expect(try engine.get(bytes("kept-4"), nowMillis: 1)?.bytes == bytes("value-4"))
        // The damaged key is answered from the value cache (what was written) or with an
        // error, never with the damaged bytes.
        if let value = try? engine.get(bytes("kept-3"), nowMillis: 1) {
            #expect(value.bytes == bytes("value-3"))
        }
    }
}
