/// An fdatasync of the Raft log's active segment that may run on another thread, so that the
/// thread writing the log keeps working while the disk flushes (a leader reads its followers'
/// acknowledgements meanwhile). It covers every write made before ``RaftLogStore/beginSync()``
/// returned it: segments before the active one were synced when the next one began.
///
/// The store must hear how it ended (``RaftLogStore/finishSync(_:error:)``); until then the
/// store still counts those writes as unsynced, so a ``RaftLogStore/sync()`` in between
/// flushes them again rather than trusting a sync that may yet fail.
public struct RaftLogSync: Sendable {
    /// Held, not just its descriptor: the file stays open (and its descriptor number unused by
    /// anything else) until the sync is done, even if compaction unlinks it meanwhile.
    let file: SegmentFile
    let generation: UInt64

    /// Runs the fdatasync (on any thread) and returns its failure, if any.
    public func run() -> StorageError? {
        do {
            try file.sync()
            return nil
        } catch {
            return error
        }
    }
}

extension RaftLogStore {
    /// A sync of everything written so far, to run elsewhere; nil when nothing is unsynced.
    public func beginSync() throws(StorageError) -> RaftLogSync? {
        try checkWritable()
        guard hasUnsyncedWrites, let active = segments.last else { return nil }
        return RaftLogSync(file: active, generation: writeGeneration)
    }

    /// Records how `sync` ended. A failure leaves the store refusing every later call, as a
    /// failed ``sync()`` does (after a failed fsync the page cache may have dropped the data).
    public func finishSync(_ sync: RaftLogSync, error: StorageError?) throws(StorageError) {
        if let error {
            failure = failure ?? error
            throw error
        }
        try checkWritable()
        syncedGeneration = max(syncedGeneration, sync.generation)
    }
}
