import CohortCore
import CohortRaft
import Foundation
import Testing

@testable import CohortStorage

/// A snapshot file written off the store's thread, then put in place by the store.
@Suite struct PreparedRaftSnapshotTests {
    func storeWithEntries(_ directory: TemporaryDirectory, count: UInt64) throws -> RaftLogStore {
        let store = try RaftLogStore.open(directory: directory.path, options: RaftLogStoreOptions())
        for index in 1...count {
            try store.persist(
                RaftReady(
                    hardState: raftHardState(2, vote: 1, commit: index),
                    entriesToAppend: [raftEntry(index, 2, "e\(index)")]))
        }
        return store
    }

    @Test func aPreparedSnapshotInstallsAndSurvivesRestart() throws {
        let directory = TemporaryDirectory()
        let store = try storeWithEntries(directory, count: 20)
        // Prepared on another thread, as the replication driver does.
        let writer = store.snapshotFileWriter
        let prepared = UnsafeSendableBox<Result<PreparedRaftSnapshot, StorageError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            prepared.value = Result { () throws(StorageError) in
                try writer.prepare(raftSnapshot(15, 2, data: "state at 15"))
            }
            done.signal()
        }.start()
        #expect(done.wait(timeout: .now() + 10) == .success)
        // Nothing changes until it is installed: the old state is what a crash would find.
        #expect(store.snapshotIndex == LogIndex(0))
        #expect(directory.files.contains("snapshot.local.tmp"))
        try store.installSnapshot(try #require(prepared.value).get())
        #expect(store.snapshotIndex == LogIndex(15))
        #expect(!directory.files.contains("snapshot.local.tmp"))
        try store.compact(upTo: LogIndex(15))
        let reopened = try RaftLogStore.open(
            directory: directory.path, options: RaftLogStoreOptions())
        #expect(reopened.snapshotIndex == LogIndex(15))
        #expect(reopened.latestSnapshotData == Array("state at 15".utf8))
        #expect(reopened.lastIndex == LogIndex(20))
    }

    @Test func aStalePreparedSnapshotIsDiscarded() throws {
        let directory = TemporaryDirectory()
        let store = try storeWithEntries(directory, count: 20)
        let stale = try store.snapshotFileWriter.prepare(raftSnapshot(10, 2, data: "old"))
        // A newer snapshot was saved meanwhile (a leader's, say).
        try store.saveSnapshot(raftSnapshot(18, 2, data: "new"))
        try store.installSnapshot(stale)
        #expect(store.snapshotIndex == LogIndex(18))
        #expect(store.latestSnapshotData == Array("new".utf8))
        #expect(!directory.files.contains("snapshot.local.tmp"))
    }

    @Test func aCrashBeforeInstallLeavesTheOldSnapshotAndNoTemporaryFile() throws {
        let directory = TemporaryDirectory()
        do {
            let store = try storeWithEntries(directory, count: 20)
            try store.saveSnapshot(raftSnapshot(5, 2, data: "five"))
            _ = try store.snapshotFileWriter.prepare(raftSnapshot(15, 2, data: "fifteen"))
            // The process dies here: the file was written but never installed.
        }
        let reopened = try RaftLogStore.open(
            directory: directory.path, options: RaftLogStoreOptions())
        #expect(reopened.snapshotIndex == LogIndex(5))
        #expect(reopened.latestSnapshotData == Array("five".utf8))
        #expect(reopened.lastIndex == LogIndex(20))
        #expect(!directory.files.contains("snapshot.local.tmp"))
    }

    @Test func anOversizedSnapshotIsRefusedBeforeWriting() throws {
        let directory = TemporaryDirectory()
        let writer = RaftSnapshotFileWriter(
            directory: directory.path, snapshotBytesMax: 4, device: POSIXStorageDevice.shared)
        #expect(throws: StorageError.self) {
            _ = try writer.prepare(raftSnapshot(1, 1, data: "too large"))
        }
        #expect(directory.files.isEmpty)
    }

    @Test func backgroundWorkRunsAtLowerPriority() throws {
        let base = BackgroundPriority.currentNiceValue()
        let seen = UnsafeSendableBox<Int32?>(nil)
        let done = DispatchSemaphore(value: 0)
        BackgroundPriority.run(name: "test-background") {
            seen.value = BackgroundPriority.currentNiceValue()
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(seen.value == max(base, BackgroundPriority.niceValue))
        // Only that thread: this one keeps its priority.
        #expect(BackgroundPriority.currentNiceValue() == base)
    }
}
