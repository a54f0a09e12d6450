import CohortCore
import CohortRaft
import Foundation
import Testing

@testable import CohortStorage

/// An entry with normal data `text`.
func raftEntry(_ index: UInt64, _ term: UInt64, _ text: String = "") -> RaftEntry {
    RaftEntry(index: LogIndex(index), term: Term(term), kind: .normal(Array(text.utf8)))
}

/// A hard state.
func raftHardState(_ term: UInt64, vote: UInt64? = nil, commit: UInt64) -> RaftHardState {
    RaftHardState(term: Term(term), votedFor: vote.map(NodeID.init), commitIndex: LogIndex(commit))
}

/// A snapshot's metadata with its data in memory, as tests write it.
struct SnapshotFixture {
    var metadata: RaftSnapshotMetadata
    var data: [UInt8]

    /// What Raft and the store know of it.
    var snapshot: RaftSnapshot { RaftSnapshot(metadata: metadata, size: UInt64(data.count)) }
}

/// A snapshot through `index` at `term` with three voters.
func raftSnapshot(_ index: UInt64, _ term: UInt64, data: String = "state") -> SnapshotFixture {
    SnapshotFixture(
        metadata: RaftSnapshotMetadata(
            index: LogIndex(index), term: Term(term),
            membership: RaftMembership(voters: [NodeID(1), NodeID(2), NodeID(3)])),
        data: Array(data.utf8))
}

extension RaftLogStore {
    func saveSnapshot(_ fixture: SnapshotFixture) throws(StorageError) {
        try saveSnapshot(fixture.metadata, data: fixture.data)
    }

    /// The whole data of the latest snapshot.
    var latestSnapshotData: [UInt8]? {
        guard let file = snapshotFile else { return nil }
        return try? file.readData(offset: 0, count: Int(file.snapshot.size))
    }
}

extension RaftSnapshotFileWriter {
    func prepare(_ fixture: SnapshotFixture) throws(StorageError) -> PreparedRaftSnapshot {
        try prepare(fixture.metadata, data: fixture.data)
    }
}

@Suite("RaftLogStore")
struct RaftLogStoreTests {
    @Test("entries of every kind and the hard state survive a restart")
    func roundTripThroughRestart() throws {
        let directory = TemporaryDirectory()
        let membership = RaftMembership(
            voters: [NodeID(1), NodeID(2)], witnesses: [NodeID(3)], learners: [NodeID(4)],
            learnersAwaitingPromotion: [NodeID(4)])
        let entries = [
            raftEntry(1, 1, "alpha"),
            RaftEntry(index: LogIndex(2), term: Term(1), kind: .noop),
            RaftEntry(index: LogIndex(3), term: Term(2), kind: .membership(membership)),
            RaftEntry(index: LogIndex(4), term: Term(2), kind: .normalDataOmitted),
            raftEntry(5, 2, ""),
        ]
        do {
            let store = try RaftLogStore.open(directory: directory.path)
            #expect(store.durableState == .empty)
            try store.persist(
                RaftReady(
                    hardState: raftHardState(1, vote: 1, commit: 0), entriesToAppend: [entries[0]]))
            try store.persist(
                RaftReady(
                    hardState: raftHardState(2, vote: 2, commit: 3),
                    entriesToAppend: Array(entries[1...])))
            #expect(store.entries == entries)
        }
        let reopened = try RaftLogStore.open(directory: directory.path)
        #expect(reopened.entries == entries)
        #expect(reopened.hardState == raftHardState(2, vote: 2, commit: 3))
        #expect(reopened.durableState.snapshot == nil)
        #expect(reopened.firstIndex == LogIndex(1) && reopened.lastIndex == LogIndex(5))
        #expect(reopened.lastTerm == Term(2))
        #expect(reopened.entry(at: LogIndex(3)) == entries[2])
        #expect(reopened.entry(at: LogIndex(6)) == nil)
        #expect(reopened.recovery.tornTail == nil && reopened.recovery.corruptions.isEmpty)
        #expect(reopened.recovery.segmentsScanned == 1)
    }

    @Test("a conflicting suffix is replaced, and the replacement survives a restart")
    func truncationThenAppend() throws {
        let directory = TemporaryDirectory()
        do {
            let store = try RaftLogStore.open(directory: directory.path)
            try store.persist(
                RaftReady(
                    hardState: raftHardState(1, commit: 2),
                    entriesToAppend: (1...5).map { raftEntry($0, 1, "old\($0)") }))
            try store.persist(
                RaftReady(
                    hardState: raftHardState(2, commit: 2),
                    entriesToAppend: [raftEntry(3, 2, "new3"), raftEntry(4, 2, "new4")]))
            // Rewriting only the last entry, then appending after it without truncation.
            try store.persist(RaftReady(entriesToAppend: [raftEntry(4, 3, "newer4")]))
            try store.persist(RaftReady(entriesToAppend: [raftEntry(5, 3, "five")]))
        }
        let expected = [
            raftEntry(1, 1, "old1"), raftEntry(2, 1, "old2"), raftEntry(3, 2, "new3"),
            raftEntry(4, 3, "newer4"), raftEntry(5, 3, "five"),
        ]
        let reopened = try RaftLogStore.open(directory: directory.path)
        #expect(reopened.entries == expected)
        #expect(reopened.hardState == raftHardState(2, commit: 2))
    }

    @Test("the latest hard state wins after a restart, a cleared vote included")
    func hardStateSurvives() throws {
        let directory = TemporaryDirectory()
        let states = [
            raftHardState(1, vote: 1, commit: 0), raftHardState(2, vote: 3, commit: 0),
            raftHardState(3, vote: nil, commit: 0), raftHardState(3, vote: 2, commit: 0),
            raftHardState(4, vote: nil, commit: 0),
        ]
        for state in states {
            let store = try RaftLogStore.open(directory: directory.path)
            try store.persist(RaftReady(hardState: state))
            let reopened = try RaftLogStore.open(directory: directory.path)
            #expect(reopened.hardState == state)
        }
    }

    @Test("an installed snapshot replaces the whole log and survives a restart")
    func snapshotInstallReplacesLog() throws {
        let directory = TemporaryDirectory()
        let fixture = raftSnapshot(20, 3, data: "machine through 20")
        let snapshot = fixture.snapshot
        do {
            let store = try RaftLogStore.open(directory: directory.path)
            try store.persist(
                RaftReady(
                    hardState: raftHardState(1, commit: 4),
                    entriesToAppend: (1...10).map { raftEntry($0, 1, "e\($0)") }))
            try store.persist(
                RaftReady(
                    hardState: raftHardState(3, commit: 20),
                    entriesToAppend: [raftEntry(21, 3, "after")],
                    snapshotChunks: [
                        RaftSnapshotChunk(
                            metadata: fixture.metadata, offset: 0, bytes: fixture.data)
                    ], snapshot: snapshot))
            #expect(store.entries == [raftEntry(21, 3, "after")])
            #expect(store.latestSnapshotData == fixture.data)
            #expect(store.snapshotIndex == LogIndex(20))
        }
        let reopened = try RaftLogStore.open(directory: directory.path)
        #expect(reopened.snapshot == snapshot)
        #expect(reopened.latestSnapshotData == fixture.data)
        #expect(reopened.entries == [raftEntry(21, 3, "after")])
        #expect(reopened.firstIndex == LogIndex(21))
        #expect(reopened.hardState == raftHardState(3, commit: 20))
        #expect(reopened.recovery.entriesReplacedBySnapshot == 0)
        #expect(!directory.files.contains { $0.hasSuffix(".tmp") })
    }

    @Test("Raft §7: a snapshot durable before its log reset keeps a matching suffix only")
    func snapshotWithoutLogResetIsReconciled() throws {
        for (term, kept) in [(UInt64(1), 5), (UInt64(2), 0)] {
            let directory = TemporaryDirectory("reconcile\(term)")
            do {
                let store = try RaftLogStore.open(directory: directory.path)
                try store.persist(
                    RaftReady(
                        hardState: raftHardState(1, commit: 3),
                        entriesToAppend: (1...10).map { raftEntry($0, 1) }))
            }
            // The crash came after the snapshot file was renamed into place, before the log
            // reset record reached the disk.
            let prepared = try RaftSnapshotFileWriter(
                directory: directory.path, snapshotBytesMax: 1 << 20,
                device: POSIXStorageDevice.shared
            ).prepare(raftSnapshot(5, term))
            try RaftLogFileSystem.publish(
                prepared.temporaryName, as: RaftLogStore.snapshotFileName,
                directory: directory.path, device: POSIXStorageDevice.shared)
            let reopened = try RaftLogStore.open(directory: directory.path)
            #expect(reopened.snapshotIndex == LogIndex(5))
            #expect(reopened.entries.count == kept)
            #expect(reopened.recovery.entriesReplacedBySnapshot == 5 - kept)
            #expect(reopened.lastIndex == LogIndex(5 + UInt64(kept)))
        }
    }

    @Test("several readies written, then one sync, read back alike")
    func groupCommit() throws {
        let directory = TemporaryDirectory()
        let store = try RaftLogStore.open(directory: directory.path)
        for index in 1...20 {
            try store.write(
                RaftReady(
                    hardState: raftHardState(1, commit: UInt64(index - 1)),
                    entriesToAppend: [raftEntry(UInt64(index), 1, "entry \(index)")]))
        }
        try store.sync()
        let written = store.durableState
        let reopened = try RaftLogStore.open(directory: directory.path)
        #expect(reopened.durableState == written)
        #expect(written.entries.count == 20)
        #expect(written.hardState.commitIndex == LogIndex(19))
    }

    @Test("an entry above entryBytesMax is refused before anything is written")
    func oversizedEntryIsRefused() throws {
        let directory = TemporaryDirectory()
        var options = RaftLogStoreOptions()
        options.entryBytesMax = 64
        let store = try RaftLogStore.open(directory: directory.path, options: options)
        let big = RaftEntry(
            index: LogIndex(1), term: Term(1), kind: .normal([UInt8](repeating: 7, count: 65)))
        #expect(throws: StorageError.valueTooLarge(bytes: 65, max: 64)) {
            try store.persist(RaftReady(entriesToAppend: [big]))
        }
        try store.persist(RaftReady(entriesToAppend: [raftEntry(1, 1, "fits")]))
        #expect(
            try RaftLogStore.open(directory: directory.path, options: options).entries.count == 1)
    }

    @Test("segments roll at segmentBytesMax; compaction removes old files; restart agrees")
    func compactionRemovesOldSegments() throws {
        let directory = TemporaryDirectory()
        var options = RaftLogStoreOptions()
        options.segmentBytesMax = 4096
        let payload = String(repeating: "x", count: 100)
        let store = try RaftLogStore.open(directory: directory.path, options: options)
        for index in 1...200 {
            try store.persist(
                RaftReady(
                    hardState: raftHardState(2, vote: 1, commit: UInt64(index)),
                    entriesToAppend: [raftEntry(UInt64(index), 2, payload)]))
        }
        let segmentsBefore = store.segmentFileNames
        #expect(segmentsBefore.count >= 6)
        for name in segmentsBefore {
            let size =
                try FileManager.default.attributesOfItem(atPath: directory.file(name))[
                    .size] as! Int
            #expect(size <= options.segmentBytesMax)
        }
        try store.saveSnapshot(raftSnapshot(150, 2))
        #expect(store.firstIndex == LogIndex(151))
        let removed = try store.compact(upTo: LogIndex(150))
        #expect(!removed.isEmpty)
        #expect(removed == Array(segmentsBefore.prefix(removed.count)))
        #expect(directory.files.filter { $0.hasPrefix("seg-") } == store.segmentFileNames)
        // The segment holding entry 151 stays.
        #expect(store.segmentFileNames.count >= 1)
        try store.persist(RaftReady(entriesToAppend: [raftEntry(201, 3, "after compaction")]))
        let expected = store.durableState
        let reopened = try RaftLogStore.open(directory: directory.path, options: options)
        #expect(reopened.durableState == expected)
        #expect(reopened.firstIndex == LogIndex(151))
        #expect(reopened.lastIndex == LogIndex(201))
        #expect(reopened.hardState == raftHardState(2, vote: 1, commit: 200))
        // Compacting through everything leaves only the active segment.
        try reopened.saveSnapshot(raftSnapshot(201, 3))
        try reopened.compact(upTo: LogIndex(201))
        #expect(reopened.segmentFileNames.count == 1)
        let again = try RaftLogStore.open(directory: directory.path, options: options)
        #expect(again.entries.isEmpty && again.firstIndex == LogIndex(202))
        #expect(again.hardState == raftHardState(2, vote: 1, commit: 200))
    }

    @Test("a truncation reaching below the oldest remaining segment replays correctly")
    func truncationAcrossCompactedSegments() throws {
        let directory = TemporaryDirectory()
        var options = RaftLogStoreOptions()
        options.segmentBytesMax = 4096
        let payload = String(repeating: "y", count: 200)
        let store = try RaftLogStore.open(directory: directory.path, options: options)
        try store.persist(
            RaftReady(
                hardState: raftHardState(1, commit: 30),
                entriesToAppend: (1...60).map { raftEntry($0, 1, payload) }))
        // Rewrite from 41 in a new term: the truncation lands in a later segment than 41.
        try store.persist(
            RaftReady(
                hardState: raftHardState(2, commit: 30),
                entriesToAppend: (41...45).map { raftEntry($0, 2, "short") }))
        try store.saveSnapshot(raftSnapshot(40, 1))
        let removed = try store.compact(upTo: LogIndex(40))
        #expect(!removed.isEmpty)
        let expected = store.durableState
        let reopened = try RaftLogStore.open(directory: directory.path, options: options)
        #expect(reopened.durableState == expected)
        #expect(reopened.entries.map(\.index.rawValue) == Array(41...45))
        #expect(reopened.entries.allSatisfy { $0.term == Term(2) })
    }

    @Test("the default bounds hold what a default RaftNode produces")
    func boundsCoverRaftConfig() {
        let options = RaftLogStoreOptions()
        let config = RaftConfig()
        options.validate(for: config)
        #expect(options.entryBytesMax >= config.entryBytesMax)
        #expect(options.snapshotBytesMax >= config.incomingSnapshotBytesMax)
        #expect(options.segmentBytesMax == 64 << 20)
        #expect(options.corruptionPolicy == .refuse)
    }
}
