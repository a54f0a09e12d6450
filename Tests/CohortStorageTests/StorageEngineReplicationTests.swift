import CohortCore
import Foundation
import Testing

@testable import CohortStorage

/// What replication needs of the engine (StorageEngine+Replication.swift): writes evaluated
/// over an overlay without committing, writes applied under the log index that carried them,
/// whole-state restores, and a committed sequence that survives every kind of restart, because
/// after a crash the engine's own sequence says where to resume applying the log.
@Suite struct StorageEngineReplicationTests {
    func options(
        fsync: FsyncPolicy = .none, segmentBytesMax: Int = 64 << 20
    ) -> StorageOptions {
        var options = StorageOptions()
        options.fsync = fsync
        options.segmentBytesMax = segmentBytesMax
        options.compactsAutomatically = false
        return options
    }

    func put(_ text: String, expiresAtMillis: UInt64 = 0) -> KeyWrite {
        .put(value: bytes(text), type: .string, expiresAtMillis: expiresAtMillis)
    }

    /// The live value of `key` as text, nil when absent.
    func value(_ engine: StorageEngine, _ key: String, nowMillis: UInt64 = 1_000) throws
        -> String?
    {
        try engine.get(bytes(key), nowMillis: nowMillis).map {
            String(decoding: $0.bytes, as: UTF8.self)
        }
    }

    /// Every live key and value, from a snapshot of the index.
    func contents(_ engine: StorageEngine, nowMillis: UInt64 = 1_000) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in engine.snapshot(nowMillis: nowMillis) {
            result[String(decoding: key, as: UTF8.self)] = String(
                decoding: value.bytes, as: UTF8.self)
        }
        return result
    }

    /// Opens a second engine on `directory` while `crashed` is still open and was never closed:
    /// what a process that died without closing leaves behind (no index checkpoint, so recovery
    /// reads the segments and hints). `crashed` must not be written to afterwards.
    func reopenAfterCrash(
        of crashed: StorageEngine, directory: TemporaryDirectory, options: StorageOptions,
        nowMillis: UInt64 = 1_000
    ) throws -> StorageEngine {
        #expect(!directory.files.contains(IndexCheckpoint.fileName))
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: nowMillis)
        #expect(!engine.recovery.indexCheckpointUsed)
        // Everything the crashed engine committed was written (not necessarily fsynced, but a
        // process crash keeps the page cache): recovery resumes exactly where it stopped.
        #expect(engine.sequences.committed == crashed.sequences.committed)
        return engine
    }

    // MARK: - speculate

    @Test func speculateReturnsWritesWithoutCommittingThem() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 1_000)
        defer { try? engine.close() }
        _ = try engine.transaction(nowMillis: 1_000) {
            try $0.set(bytes("a"), value: bytes("old"))
            try $0.set(bytes("gone"), value: bytes("x"))
        }
        let committed = engine.sequences.committed
        #expect(committed == 1)

        let outcome = try engine.speculate(nowMillis: 1_000, overlay: [:]) { transaction in
            try transaction.set(bytes("a"), value: bytes("new"), expiresAtMillis: 9_000)
            try transaction.set(bytes("b"), value: bytes("added"))
            let deletedLive = transaction.delete(bytes("gone"))
            let deletedAbsent = transaction.delete(bytes("never"))
            // The body reads its own writes.
            #expect(try transaction.get(bytes("a"))?.bytes == bytes("new"))
            #expect(try transaction.get(bytes("gone")) == nil)
            return (deletedLive, deletedAbsent)
        }
        #expect(outcome.result.0, "the live key existed")
        #expect(!outcome.result.1, "the absent key did not")
        #expect(
            outcome.writes == [
                bytes("a"): put("new", expiresAtMillis: 9_000), bytes("b"): put("added"),
                bytes("gone"): .delete,
            ], "a delete of a key absent everywhere writes nothing")
        // Nothing reached the engine.
        #expect(try value(engine, "a") == "old")
        #expect(try value(engine, "b") == nil)
        #expect(try value(engine, "gone") == "x")
        #expect(engine.sequences.committed == committed)
        #expect(engine.statistics.commitsTotal == 1)
    }

    @Test func speculateReadsTheOverlayOverTheEngine() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 1_000)
        defer { try? engine.close() }
        _ = try engine.transaction(nowMillis: 1_000) {
            for name in ["a", "b", "c"] { try $0.set(bytes(name), value: bytes("engine-\(name)")) }
        }
        let overlay: [[UInt8]: KeyWrite] = [
            bytes("a"): put("overlay-a", expiresAtMillis: 5_000),
            bytes("b"): .delete,
            bytes("d"): put("overlay-d"),
            bytes("expired"): put("old", expiresAtMillis: 999),
        ]
        let outcome = try engine.speculate(nowMillis: 1_000, overlay: overlay) { transaction in
            // A put in the overlay shadows the engine's value.
            #expect(try transaction.get(bytes("a"))?.bytes == bytes("overlay-a"))
            #expect(transaction.metadata(bytes("a"))?.expiresAtMillis == 5_000)
            #expect(transaction.contains(bytes("a")))
            // A delete in the overlay hides the engine's key.
            #expect(try transaction.get(bytes("b")) == nil)
            #expect(!transaction.contains(bytes("b")))
            #expect(transaction.metadata(bytes("b")) == nil)
            // Keys the overlay does not name come from the engine.
            #expect(try transaction.get(bytes("c"))?.bytes == bytes("engine-c"))
            #expect(transaction.contains(bytes("c")))
            // A key only in the overlay.
            #expect(try transaction.get(bytes("d"))?.bytes == bytes("overlay-d"))
            #expect(transaction.contains(bytes("d")))
            // An overlay put that expired before `nowMillis` is absent.
            #expect(try transaction.get(bytes("expired")) == nil)
            #expect(!transaction.contains(bytes("expired")))
            #expect(transaction.metadata(bytes("expired")) == nil)
            // The transaction's own writes come before the overlay.
            try transaction.set(bytes("a"), value: bytes("mine"))
            #expect(try transaction.get(bytes("a"))?.bytes == bytes("mine"))
            return try transaction.setExpiry(bytes("d"), expiresAtMillis: 7_000)
        }
        #expect(outcome.result, "setExpiry found the overlay-only key")
        #expect(
            outcome.writes == [
                bytes("a"): put("mine"), bytes("d"): put("overlay-d", expiresAtMillis: 7_000),
            ])
        #expect(try value(engine, "a") == "engine-a")
        #expect(try value(engine, "b") == "engine-b")
    }

    @Test func overlayHidesEngineHidesEveryKeyItDoesNotName() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 1_000)
        defer { try? engine.close() }
        _ = try engine.transaction(nowMillis: 1_000) {
            for name in ["a", "b"] { try $0.set(bytes(name), value: bytes("engine-\(name)")) }
        }
        let overlay: [[UInt8]: KeyWrite] = [bytes("b"): put("overlay-b")]
        // Without the flag the engine's keys show through (the control).
        let shown = try engine.speculate(nowMillis: 1_000, overlay: overlay) {
            try $0.get(bytes("a"))?.bytes
        }
        #expect(shown.result == bytes("engine-a"))
        let hidden = try engine.speculate(
            nowMillis: 1_000, overlay: overlay, overlayHidesEngine: true
        ) { transaction in
            (
                value: try transaction.get(bytes("a")),
                contains: transaction.contains(bytes("a")),
                metadata: transaction.metadata(bytes("a")),
                expirySet: try transaction.setExpiry(bytes("a"), expiresAtMillis: 5_000),
                overlayValue: try transaction.get(bytes("b"))?.bytes,
                overlayContains: transaction.contains(bytes("b"))
            )
        }
        #expect(hidden.result.value == nil)
        #expect(!hidden.result.contains)
        #expect(hidden.result.metadata == nil)
        #expect(!hidden.result.expirySet)
        #expect(hidden.result.overlayValue == bytes("overlay-b"))
        #expect(hidden.result.overlayContains)
        #expect(hidden.writes.isEmpty)
        #expect(try value(engine, "a") == "engine-a")
    }

    @Test func deleteOfAKeyOnlyInTheOverlayYieldsADelete() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 1_000)
        defer { try? engine.close() }
        let overlay: [[UInt8]: KeyWrite] = [bytes("pending"): put("v")]
        let outcome = try engine.speculate(nowMillis: 1_000, overlay: overlay) { transaction in
            let existed = transaction.delete(bytes("pending"))
            return (existed, try transaction.get(bytes("pending")))
        }
        #expect(outcome.result.0, "the overlay's put counted as a live value")
        #expect(outcome.result.1 == nil, "the transaction reads its own delete")
        // The engine never had the key, but the proposal in flight will put it: the delete
        // must be replicated.
        #expect(outcome.writes == [bytes("pending"): .delete])
        // Applied after the proposal, the delete removes it.
        try engine.apply([bytes("pending"): put("v")], sequence: 1, nowMillis: 1_000)
        try engine.apply(outcome.writes, sequence: 2, nowMillis: 1_000)
        #expect(try value(engine, "pending") == nil)
        #expect(engine.sequences.committed == 2)
    }

    @Test func speculatedWritesAppliedOnAReplicaGiveTheSameState() throws {
        let leaderDirectory = TemporaryDirectory("leader")
        let replicaDirectory = TemporaryDirectory("replica")
        let leader = try StorageEngine.open(
            directory: leaderDirectory.path, options: options(), nowMillis: 1_000)
        let replica = try StorageEngine.open(
            directory: replicaDirectory.path, options: options(), nowMillis: 1_000)
        defer {
            try? leader.close()
            try? replica.close()
        }
        // INCR five times: each evaluated by speculation over the writes still in flight, the
        // log index assigned by "Raft", then applied on both.
        var inFlight: [[UInt8]: KeyWrite] = [:]
        var log: [(index: UInt64, writes: [[UInt8]: KeyWrite])] = []
        for number in 1...5 {
            let outcome = try leader.speculate(nowMillis: 1_000, overlay: inFlight) {
                transaction in
                let current =
                    try transaction.get(bytes("counter")).map {
                        Int(String(decoding: $0.bytes, as: UTF8.self)) ?? 0
                    } ?? 0
                try transaction.set(bytes("counter"), value: bytes(String(current + 1)))
            }
            inFlight.merge(outcome.writes) { $1 }
            log.append((UInt64(number * 10), outcome.writes))
        }
        #expect(try value(leader, "counter") == nil, "speculation commits nothing")
        for entry in log {
            for engine in [leader, replica] {
                let commit = try engine.apply(entry.writes, sequence: entry.index, nowMillis: 1_000)
                #expect(commit?.sequence == entry.index)
            }
        }
        #expect(try value(leader, "counter") == "5")
        #expect(try value(replica, "counter") == "5")
        #expect(leader.sequences.committed == 50)
        #expect(replica.sequences.committed == 50)
    }

    @Test func speculateOnAClosedEngineThrows() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 1_000)
        try engine.close()
        #expect(throws: StorageError.closed) {
            try engine.speculate(nowMillis: 1_000, overlay: [:]) { _ in 0 }
        }
        #expect(throws: StorageError.closed) {
            try engine.apply([bytes("a"): put("v")], sequence: 1, nowMillis: 1_000)
        }
    }

    // MARK: - apply

    @Test func applyCommitsUnderExactlyTheGivenSequenceWithGaps() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 1_000)
        defer { try? engine.close() }
        let first = try engine.apply(
            [bytes("a"): put("1"), bytes("b"): put("1", expiresAtMillis: 4_000)], sequence: 5,
            nowMillis: 1_000)
        #expect(first?.sequence == 5)
        #expect(engine.sequences.committed == 5)
        #expect(try engine.get(bytes("a"), nowMillis: 1_000)?.metadata.sequence == 5)
        let b = try engine.get(bytes("b"), nowMillis: 1_000)
        #expect(b?.metadata.sequence == 5, "one group, one sequence")
        #expect(b?.metadata.expiresAtMillis == 4_000)
        #expect(try engine.get(bytes("b"), nowMillis: 4_000) == nil)

        let second = try engine.apply(
            [bytes("a"): put("2"), bytes("b"): .delete], sequence: 9, nowMillis: 1_001)
        #expect(second?.sequence == 9)
        #expect(engine.sequences.committed == 9)
        #expect(try value(engine, "a") == "2")
        #expect(try engine.get(bytes("a"), nowMillis: 1_001)?.metadata.sequence == 9)
        #expect(try value(engine, "b") == nil)

        // Deletes of absent keys change nothing: no commit, the sequence stays.
        let nothing = try engine.apply(
            [bytes("b"): .delete, bytes("never"): .delete], sequence: 12, nowMillis: 1_002)
        #expect(nothing == nil)
        #expect(engine.sequences.committed == 9)
        #expect(try engine.apply([:], sequence: 13, nowMillis: 1_002) == nil)
        #expect(engine.sequences.committed == 9)

        // A local transaction after replicated applies continues above them.
        let local = try engine.transaction(nowMillis: 1_003) {
            try $0.set(bytes("c"), value: bytes("local"))
        }
        #expect(local.commit?.sequence == 10)
        #expect(try engine.apply([bytes("c"): .delete], sequence: 20, nowMillis: 1_004) != nil)
        #expect(engine.sequences.committed == 20)
        #expect(contents(engine) == ["a": "2"])
    }

    @Test func applyRejectsOversizedWritesAtomically() throws {
        let directory = TemporaryDirectory()
        var limited = options()
        limited.keyBytesMax = 8
        limited.valueBytesMax = 16
        let engine = try StorageEngine.open(
            directory: directory.path, options: limited, nowMillis: 1_000)
        defer { try? engine.close() }
        let oversized: [[UInt8]: KeyWrite] = [
            bytes("ok"): put("fine"),
            bytes("big"): .put(
                value: [UInt8](repeating: 1, count: 17), type: .string, expiresAtMillis: 0),
        ]
        #expect(throws: StorageError.valueTooLarge(bytes: 17, max: 16)) {
            try engine.apply(oversized, sequence: 3, nowMillis: 1_000)
        }
        #expect(throws: StorageError.keyTooLarge(bytes: 9, max: 8)) {
            try engine.apply([bytes("123456789"): put("v")], sequence: 3, nowMillis: 1_000)
        }
        #expect(try value(engine, "ok") == nil, "nothing of a refused group is applied")
        #expect(engine.sequences.committed == 0)
        // The engine still works, and the refused sequence can still be applied.
        #expect(try engine.apply([bytes("ok"): put("fine")], sequence: 3, nowMillis: 1_000) != nil)
        #expect(engine.sequences.committed == 3)
    }

    // MARK: - The committed sequence across restarts

    @Test func committedSequenceSurvivesACleanReopen() throws {
        let directory = TemporaryDirectory()
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options(), nowMillis: 1_000)
            try engine.apply([bytes("a"): put("1")], sequence: 5, nowMillis: 1_000)
            try engine.apply([bytes("b"): put("2")], sequence: 9, nowMillis: 1_000)
            // The last applied entry only deletes: its sequence must survive all the same.
            try engine.apply([bytes("a"): .delete], sequence: 14, nowMillis: 1_000)
            try engine.close()
        }
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options(), nowMillis: 1_000)
            #expect(engine.recovery.indexCheckpointUsed)
            #expect(engine.sequences.committed == 14)
            #expect(engine.sequences.durable == 14)
            #expect(contents(engine) == ["b": "2"])
            #expect(try engine.get(bytes("b"), nowMillis: 1_000)?.metadata.sequence == 9)
            try engine.close()
        }
        // The same from the segments alone (no checkpoint).
        try FileManager.default.removeItem(atPath: directory.file(IndexCheckpoint.fileName))
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 1_000)
        defer { try? engine.close() }
        #expect(!engine.recovery.indexCheckpointUsed)
        #expect(engine.sequences.committed == 14)
        #expect(contents(engine) == ["b": "2"])
        // Applying resumes above the recovered sequence.
        #expect(try engine.apply([bytes("c"): put("3")], sequence: 15, nowMillis: 1_000) != nil)
        #expect(engine.sequences.committed == 15)
    }

    @Test func committedSequenceSurvivesACrash() throws {
        let directory = TemporaryDirectory()
        let batch = options(fsync: .batch)
        let crashed = try StorageEngine.open(
            directory: directory.path, options: batch, nowMillis: 1_000)
        defer { try? crashed.close() }
        try crashed.apply(
            [bytes("a"): put("1"), bytes("b"): put("1")], sequence: 3, nowMillis: 1_000)
        try crashed.apply([bytes("b"): put("2")], sequence: 7, nowMillis: 1_000)
        try crashed.apply([bytes("a"): .delete], sequence: 20, nowMillis: 1_000)
        #expect(crashed.sequences.committed == 20)
        // Under `.batch` commits reach the file with the fsync that makes them durable (the
        // append tail); what a crash must keep is what was durable.
        let durable = DispatchSemaphore(value: 0)
        crashed.whenDurable(Commit(sequence: 20)) { _ in durable.signal() }
        durable.wait()

        let engine = try reopenAfterCrash(of: crashed, directory: directory, options: batch)
        defer { try? engine.close() }
        #expect(engine.sequences.committed == 20)
        #expect(engine.recovery.lastSequence == 20)
        #expect(contents(engine) == ["b": "2"])
        #expect(try engine.get(bytes("b"), nowMillis: 1_000)?.metadata.sequence == 7)
    }

    @Test func committedSequenceSurvivesCompaction() throws {
        let directory = TemporaryDirectory()
        let small = options(segmentBytesMax: 1_024)
        var expected: [String: String] = [:]
        var last: UInt64 = 0
        let engine = try StorageEngine.open(
            directory: directory.path, options: small, nowMillis: 1_000)
        // Overwrite ten keys many times, under sequences with gaps, so that the sealed
        // segments are mostly dead.
        for round in 0..<60 {
            let key = "key:\(round % 10)"
            let text = "value-\(round)-" + String(repeating: "x", count: 40)
            last = UInt64(round * 3 + 10)
            try engine.apply([bytes(key): put(text)], sequence: last, nowMillis: 1_000)
            expected[key] = text
        }
        // The last entries delete keys whose values lie in sealed segments.
        for number in [0, 1] {
            last += 5
            try engine.apply([bytes("key:\(number)"): .delete], sequence: last, nowMillis: 1_000)
            expected["key:\(number)"] = nil
        }
        let segmentsBefore = directory.files.filter { $0.hasSuffix(".log") }
        #expect(segmentsBefore.count >= 4, "\(segmentsBefore)")

        let report = try engine.compact(nowMillis: 1_000)
        #expect(report.segmentsCompacted.count >= 2, "\(report)")
        #expect(report.bytesReclaimed > 0)
        for name in report.segmentsCompacted {
            #expect(!directory.files.contains(name), "\(name) was unlinked")
        }
        #expect(engine.sequences.committed == last)
        #expect(contents(engine) == expected)

        // A crash right after the compaction: recovery from the segments and hints.
        do {
            let recovered = try reopenAfterCrash(of: engine, directory: directory, options: small)
            #expect(recovered.sequences.committed == last)
            #expect(contents(recovered) == expected)
            try recovered.close()
            try FileManager.default.removeItem(
                atPath: directory.file(IndexCheckpoint.fileName))
        }
        // A clean close and reopen: from the checkpoint, then from the files.
        try engine.close()
        do {
            let reopened = try StorageEngine.open(
                directory: directory.path, options: small, nowMillis: 1_000)
            #expect(reopened.recovery.indexCheckpointUsed)
            #expect(reopened.sequences.committed == last)
            #expect(contents(reopened) == expected)
            try reopened.close()
        }
        try FileManager.default.removeItem(atPath: directory.file(IndexCheckpoint.fileName))
        let reopened = try StorageEngine.open(
            directory: directory.path, options: small, nowMillis: 1_000)
        defer { try? reopened.close() }
        #expect(!reopened.recovery.indexCheckpointUsed)
        #expect(reopened.sequences.committed == last)
        #expect(contents(reopened) == expected, "no deleted key resurrected")
    }

    /// An append that fails after rotating (disk full) leaves an empty active segment, so the
    /// last applied entry lies in a sealed segment that compaction may rewrite. Its sequence
    /// must still survive a crash. (It failed, committed 0 instead of 66, until compaction
    /// learned to leave that segment alone while the active one is empty.)
    @Test
    func committedSequenceSurvivesCompactionAfterAFailedRotation() throws {
        let directory = TemporaryDirectory()
        let small = options(segmentBytesMax: 1_024)
        let engine = try StorageEngine.open(
            directory: directory.path, options: small, nowMillis: 1_000)
        var last: UInt64 = 0
        for round in 0..<30 {
            last = UInt64(round * 2 + 1)
            try engine.apply(
                [bytes("key:\(round % 3)"): put(String(repeating: "v", count: 40))],
                sequence: last, nowMillis: 1_000)
        }
        // The last applied entry deletes every key.
        last += 7
        try engine.apply(
            [bytes("key:0"): .delete, bytes("key:1"): .delete, bytes("key:2"): .delete],
            sequence: last, nowMillis: 1_000)
        #expect(engine.keyCount == 0)
        // The next entry does not fit the active segment: the engine rotates, then the write
        // fails for want of space and is rolled back.
        engine.condition.lock()
        engine.appendFailureForTesting = (bytesWritten: 0, error: .diskFull)
        engine.condition.unlock()
        #expect(throws: StorageError.diskFull) {
            try engine.apply(
                [bytes("big"): put(String(repeating: "b", count: 1_000))], sequence: last + 1,
                nowMillis: 1_000)
        }
        #expect(engine.sequences.committed == last)
        let report = try engine.compact(nowMillis: 1_000)
        #expect(!report.segmentsCompacted.isEmpty)
        #expect(engine.sequences.committed == last)

        let recovered = try reopenAfterCrash(of: engine, directory: directory, options: small)
        defer { try? recovered.close() }
        #expect(recovered.sequences.committed == last)
        #expect(recovered.keyCount == 0)
    }

    // MARK: - restore and applyFlushAll

    @Test func restoreReplacesTheWholeStateAndSurvivesReopen() throws {
        let directory = TemporaryDirectory()
        let small = options(segmentBytesMax: 1_024)
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: small, nowMillis: 1_000)
            // Old state across several segments.
            for number in 0..<40 {
                try engine.apply(
                    [bytes("old:\(number)"): put(String(repeating: "o", count: 40))],
                    sequence: UInt64(number + 1), nowMillis: 1_000)
            }
            try engine.apply([bytes("shared"): put("old")], sequence: 41, nowMillis: 1_000)
            try engine.restore(
                [
                    (bytes("shared"), put("new", expiresAtMillis: 5_000)),
                    (bytes("fresh"), put("f")),
                    (bytes("skipped"), .delete),
                ], sequence: 100, nowMillis: 1_000)
            #expect(engine.sequences.committed == 100)
            #expect(contents(engine) == ["shared": "new", "fresh": "f"])
            #expect(engine.keyCount == 2)
            // Only the restored records are live (the clear record and the old ones are not).
            #expect(engine.statistics.liveBytes == 2 * RecordCodec.headerBytes + 9 + 6)
            let shared = try engine.get(bytes("shared"), nowMillis: 1_000)
            #expect(shared?.metadata.expiresAtMillis == 5_000)
            #expect(shared?.metadata.sequence == 100)
            #expect(try engine.get(bytes("shared"), nowMillis: 5_000) == nil)
            // Applying continues above the restore.
            try engine.apply([bytes("after"): put("a")], sequence: 101, nowMillis: 1_000)
            try engine.close()
        }
        let expected = ["shared": "new", "fresh": "f", "after": "a"]
        for fromCheckpoint in [true, false] {
            if !fromCheckpoint {
                try FileManager.default.removeItem(
                    atPath: directory.file(IndexCheckpoint.fileName))
            }
            let engine = try StorageEngine.open(
                directory: directory.path, options: small, nowMillis: 1_000)
            #expect(engine.recovery.indexCheckpointUsed == fromCheckpoint)
            #expect(engine.sequences.committed == 101)
            #expect(engine.statistics.liveBytes == 3 * RecordCodec.headerBytes + 9 + 6 + 6)
            #expect(contents(engine) == expected, "old keys stay gone")
            #expect(
                try engine.get(bytes("shared"), nowMillis: 1_000)?.metadata.expiresAtMillis
                    == 5_000)
            try engine.close()
        }
        // Reopened after the expiry: the restored expiry still applies.
        let engine = try StorageEngine.open(
            directory: directory.path, options: small, nowMillis: 6_000)
        defer { try? engine.close() }
        #expect(contents(engine, nowMillis: 6_000) == ["fresh": "f", "after": "a"])
    }

    @Test func restoreThenCompactionAndCrashKeepsOnlyTheRestoredState() throws {
        let directory = TemporaryDirectory()
        let small = options(segmentBytesMax: 1_024)
        let engine = try StorageEngine.open(
            directory: directory.path, options: small, nowMillis: 1_000)
        defer { try? engine.close() }
        for number in 0..<40 {
            try engine.apply(
                [bytes("old:\(number)"): put(String(repeating: "o", count: 40))],
                sequence: UInt64(number + 1), nowMillis: 1_000)
        }
        let restored = (0..<30).map { number in
            (key: bytes("new:\(number)"), write: put(String(repeating: "n", count: 40)))
        }
        // Larger than a segment: the restore group gets a segment of its own.
        try engine.restore(restored, sequence: 50, nowMillis: 1_000)
        // More applies seal the restore's segment.
        for number in 0..<30 {
            try engine.apply(
                [bytes("new:\(number)"): put("m\(number)")], sequence: UInt64(60 + number),
                nowMillis: 1_000)
        }
        var expected: [String: String] = [:]
        for number in 0..<30 { expected["new:\(number)"] = "m\(number)" }
        #expect(contents(engine) == expected)
        let report = try engine.compact(nowMillis: 1_000)
        #expect(!report.segmentsCompacted.isEmpty, "\(report)")
        #expect(contents(engine) == expected)
        let recovered = try reopenAfterCrash(of: engine, directory: directory, options: small)
        defer { try? recovered.close() }
        #expect(recovered.sequences.committed == 89)
        #expect(contents(recovered) == expected, "no old key resurrected")
    }

    /// A restore goes out as many groups; a crash part way (its marker still present) makes
    /// the next open discard the engine's files and open empty, wherever the tear is: never a
    /// mix of old and restored keys. The caller restores again from its snapshot.
    @Test func aTornRestoreOpensEmpty() throws {
        let directory = TemporaryDirectory()
        let segment = directory.file("seg-000001.log")
        let sizeBefore: Int
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options(), nowMillis: 1_000)
            try engine.apply(
                [bytes("a"): put("1"), bytes("b"): put("2")], sequence: 3, nowMillis: 1_000)
            sizeBefore = engine.statistics.diskBytes
            try engine.restore(
                [(bytes("a"), put("new")), (bytes("c"), put("3")), (bytes("d"), put("4"))],
                sequence: 10, nowMillis: 1_000)
            #expect(contents(engine) == ["a": "new", "c": "3", "d": "4"])
            #expect(!directory.files.contains(StorageEngine.restoreMarkerName))
            try engine.close()
        }
        try FileManager.default.removeItem(atPath: directory.file(IndexCheckpoint.fileName))
        #expect(directory.files.filter { $0.hasSuffix(".log") } == ["seg-000001.log"])
        let original = try Data(contentsOf: URL(fileURLWithPath: segment))
        #expect(original.count > sizeBefore + RecordCodec.headerBytes)
        // Inside the clear record, just after it, halfway through the puts, one byte short,
        // and whole (the crash came after the last write but before the marker went).
        let cuts = [
            sizeBefore + 1, sizeBefore + RecordCodec.headerBytes,
            (sizeBefore + original.count) / 2, original.count - 1, original.count,
        ]
        for cut in cuts {
            try original.prefix(cut).write(to: URL(fileURLWithPath: segment))
            _ = FileManager.default.createFile(
                atPath: directory.file(StorageEngine.restoreMarkerName), contents: Data())
            let engine = try StorageEngine.open(
                directory: directory.path, options: options(), nowMillis: 1_000)
            #expect(engine.recovery.discardedInterruptedRestore == ["seg-000001.log"])
            #expect(engine.sequences.committed == 0, "cut at \(cut)")
            #expect(engine.keyCount == 0, "cut at \(cut)")
            #expect(!directory.files.contains(StorageEngine.restoreMarkerName))
            // Restoring again works, and survives a reopen.
            try engine.restore(
                [(bytes("a"), put("new")), (bytes("c"), put("3"))], sequence: 10,
                nowMillis: 1_000)
            try engine.close()
            try FileManager.default.removeItem(atPath: directory.file(IndexCheckpoint.fileName))
            let reopened = try StorageEngine.open(
                directory: directory.path, options: options(), nowMillis: 1_000)
            #expect(contents(reopened) == ["a": "new", "c": "3"], "cut at \(cut)")
            #expect(reopened.sequences.committed == 10)
            try reopened.close()
            try FileManager.default.removeItem(atPath: directory.file(IndexCheckpoint.fileName))
        }
    }

    /// A restore larger than a batch and than a segment streams through many groups and
    /// segments, holding one batch at a time; a producer that fails part way leaves the engine refusing writes and the next open empty.
    @Test func aStreamedRestoreSpansSegmentsAndAFailedOneOpensEmpty() throws {
        let directory = TemporaryDirectory()
        let small = options(segmentBytesMax: 256 << 10)
        let value = [UInt8](repeating: 0x76, count: 10_000)
        let keys = 600  // 6 MB: six batches, about 24 segments
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: small, nowMillis: 1_000)
            try engine.apply([bytes("old"): put("o")], sequence: 1, nowMillis: 1_000)
            try engine.restore(sequence: 5, nowMillis: 1_000) { emit in
                for number in 0..<keys {
                    try emit(
                        bytes("k\(number)"), .put(value: value, type: .string, expiresAtMillis: 0))
                }
            }
            #expect(engine.keyCount == keys)
            try engine.close()
        }
        try FileManager.default.removeItem(atPath: directory.file(IndexCheckpoint.fileName))
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: small, nowMillis: 1_000)
            #expect(engine.keyCount == keys)
            #expect(engine.sequences.committed == 5)
            #expect(try engine.get(bytes("k599"), nowMillis: 1_000)?.bytes == value)
            #expect(try engine.get(bytes("old"), nowMillis: 1_000) == nil)
            struct Damaged: Error {}
            #expect(throws: Damaged.self) {
                try engine.restore(sequence: 9, nowMillis: 1_000) { emit in
                    for number in 0..<300 {
                        try emit(
                            bytes("x\(number)"),
                            .put(value: value, type: .string, expiresAtMillis: 0))
                    }
                    throw Damaged()
                }
            }
            #expect(throws: StorageError.self) {
                try engine.apply([bytes("after"): put("a")], sequence: 10, nowMillis: 1_000)
            }
            try? engine.close()
        }
        let engine = try StorageEngine.open(
            directory: directory.path, options: small, nowMillis: 1_000)
        defer { try? engine.close() }
        #expect(!engine.recovery.discardedInterruptedRestore.isEmpty)
        #expect(engine.keyCount == 0)
        #expect(engine.sequences.committed == 0)
    }

    @Test func restoreOfNothingEmptiesTheEngine() throws {
        let directory = TemporaryDirectory()
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options(), nowMillis: 1_000)
            try engine.apply(
                [bytes("a"): put("1"), bytes("b"): put("2")], sequence: 4, nowMillis: 1_000)
            try engine.restore([], sequence: 8, nowMillis: 1_000)
            #expect(engine.keyCount == 0)
            #expect(engine.sequences.committed == 8)
            try engine.close()
        }
        try FileManager.default.removeItem(atPath: directory.file(IndexCheckpoint.fileName))
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 1_000)
        defer { try? engine.close() }
        #expect(engine.keyCount == 0)
        #expect(engine.sequences.committed == 8)
    }

    @Test func applyFlushAllEmptiesTheEngineUnderItsSequence() throws {
        let directory = TemporaryDirectory()
        let small = options(segmentBytesMax: 1_024)
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: small, nowMillis: 1_000)
            for number in 0..<30 {
                try engine.apply(
                    [bytes("key:\(number)"): put(String(repeating: "v", count: 40))],
                    sequence: UInt64(number * 2 + 1), nowMillis: 1_000)
            }
            let commit = try engine.applyFlushAll(sequence: 70)
            #expect(commit.sequence == 70)
            #expect(engine.sequences.committed == 70)
            #expect(engine.keyCount == 0)
            #expect(try value(engine, "key:3") == nil)
            #expect(engine.statistics.liveBytes == 0)
            try engine.close()
        }
        for fromCheckpoint in [true, false] {
            if !fromCheckpoint {
                try FileManager.default.removeItem(
                    atPath: directory.file(IndexCheckpoint.fileName))
            }
            let engine = try StorageEngine.open(
                directory: directory.path, options: small, nowMillis: 1_000)
            #expect(engine.recovery.indexCheckpointUsed == fromCheckpoint)
            #expect(engine.sequences.committed == 70)
            #expect(engine.keyCount == 0)
            try engine.close()
        }
        let engine = try StorageEngine.open(
            directory: directory.path, options: small, nowMillis: 1_000)
        defer { try? engine.close() }
        try engine.apply([bytes("key:3"): put("back")], sequence: 71, nowMillis: 1_000)
        #expect(contents(engine) == ["key:3": "back"])
    }
}
