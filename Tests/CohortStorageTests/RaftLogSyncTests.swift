import CohortCore
import CohortRaft
import Dispatch
import Testing

@testable import CohortStorage

@Suite("RaftLogSync: the Raft log's fsync on another thread")
struct RaftLogSyncTests {
    @Test("a sync covers the writes before it began, and only once it is reported finished")
    func syncCountsOnlyWhenFinished() throws {
        let directory = TemporaryDirectory()
        let store = try RaftLogStore.open(directory: directory.path)
        #expect(try store.beginSync() == nil, "nothing written, nothing to sync")
        try store.write(RaftReady(entriesToAppend: [raftEntry(1, 1, "one")]))
        let first = try #require(try store.beginSync())
        // Written while the first sync runs: not covered by it.
        try store.write(RaftReady(entriesToAppend: [raftEntry(2, 1, "two")]))
        let ran = DispatchQueue(label: "sync").sync { first.run() }
        #expect(ran == nil)
        // Not yet reported: the store still counts everything as unsynced.
        #expect(store.hasUnsyncedWrites)
        try store.finishSync(first, error: nil)
        #expect(store.hasUnsyncedWrites, "the second write is not covered by the first sync")
        let second = try #require(try store.beginSync())
        #expect(second.run() == nil)
        try store.finishSync(second, error: nil)
        #expect(!store.hasUnsyncedWrites)
        #expect(try store.beginSync() == nil)
        let reopened = try RaftLogStore.open(directory: directory.path)
        #expect(reopened.entries.map(\.index.rawValue) == [1, 2])
    }

    @Test("a finished sync older than a synchronous one moves nothing back")
    func lateFinishDoesNotUnsync() throws {
        let directory = TemporaryDirectory()
        let store = try RaftLogStore.open(directory: directory.path)
        try store.write(RaftReady(entriesToAppend: [raftEntry(1, 1, "one")]))
        let early = try #require(try store.beginSync())
        try store.write(RaftReady(entriesToAppend: [raftEntry(2, 1, "two")]))
        try store.sync()
        #expect(!store.hasUnsyncedWrites)
        #expect(early.run() == nil)
        try store.finishSync(early, error: nil)
        #expect(!store.hasUnsyncedWrites)
    }

    @Test("a failed sync leaves the store refusing writes")
    func failedSyncStopsTheStore() throws {
        let directory = TemporaryDirectory()
        let store = try RaftLogStore.open(directory: directory.path)
        try store.write(RaftReady(entriesToAppend: [raftEntry(1, 1, "one")]))
        let sync = try #require(try store.beginSync())
        let failure = StorageError.io(errno: 5, operation: "fdatasync (injected)")
        #expect(throws: failure) { try store.finishSync(sync, error: failure) }
        #expect(throws: StorageError.self) {
            try store.write(RaftReady(entriesToAppend: [raftEntry(2, 1, "two")]))
        }
        #expect(throws: StorageError.self) { try store.sync() }
    }
}
