import CohortCore
import CohortRaft

/// The durable log of one Raft replication group, in a directory of its own: what a
/// ``RaftNode``'s driver persists from each ``RaftReady`` before sending its messages, and
/// what the node restarts from (``durableState``).
///
/// Files:
/// - `seg-NNNNNN.log`: append-only segments of checksummed records (``RaftLogRecordCodec``):
///   entries, truncation markers, log resets and hard states, in write order. Every segment
///   starts with the log position before it and the current hard state, so it stands alone
///   once compaction has removed older segments. A segment is synced, and its successor's
///   start record synced, when a new one begins; only the last segment can have a torn tail.
/// - `snapshot`: the latest snapshot (index, term, membership, data), replaced atomically
///   (temporary file, fdatasync, rename, directory fsync). Its data is never read whole:
///   ``readSnapshotData(of:offset:count:)`` and ``snapshotFile`` read pieces of it. A snapshot
///   being received is written to `snapshot.received.tmp` chunk by chunk.
///
/// The hard state lives in the log, not in a file of its own: a ready's entries and hard state
/// then cost one sequential write and one fdatasync, where a separate file would add a
/// rename and two more syncs to nearly every ready (the commit index changes on most). Each
/// write puts the term and vote *before* its entries, with the commit index limited to what
/// is already written, and the full hard state after them. A torn tail keeps a prefix of the
/// records, so no surviving entry is newer than the durable term and the durable commit index
/// never points past the durable log.
///
/// Group commit: ``write(_:)`` writes a ready's records (the page cache holds them) and
/// ``sync()`` makes everything written durable with one fdatasync, so a driver may write
/// several readies (of this group, or of many groups' stores) and sync once before sending
/// their messages. ``persist(_:)`` does both.
///
/// Not thread-safe: one driver owns a store. After a failed write or sync the store refuses
/// everything (what reached the disk is unknown; after a failed fsync Linux may even drop the
/// dirty pages): reopen it, which recovers from what is really on disk.
public final class RaftLogStore {
    /// The name of the snapshot file.
    static let snapshotFileName = "snapshot"

    /// The store's directory.
    public let directory: String
    /// Its bounds.
    public let options: RaftLogStoreOptions
    /// What opening found and did.
    public internal(set) var recovery = RaftLogRecovery()

    /// The log as written (synced or not): base, entries and hard state.
    var image = RaftLogImage()
    /// The latest snapshot's file, open for reading.
    var latestSnapshotFile: RaftSnapshotFile?
    /// The latest snapshot written.
    var latestSnapshot: RaftSnapshot? { latestSnapshotFile?.snapshot }
    /// The snapshot being received from a leader, chunk by chunk.
    var incomingSnapshot: RaftSnapshotFileStream?
    /// The name a received snapshot is written under until it is complete.
    static let receivedSnapshotTemporaryName = snapshotFileName + ".received.tmp"
    /// The segments, ascending by id; the last one receives appends.
    var segments: [SegmentFile] = []
    /// The length of the active segment's records.
    var activeBytes = 0
    /// The active segment file's length as this store last set it: beyond `activeBytes` when
    /// zeroes were preallocated (see ``RaftLogStoreOptions/segmentPreallocationBytes``).
    var activeFileBytes = 0
    /// The length of the active segment's start records.
    var activeStartBytes = 0
    /// The records of the ready being written, reused so that its capacity is (see
    /// `recordBufferKeptBytesMax`).
    var recordBuffer: [UInt8] = []
    /// The largest record buffer kept for the next ready; a larger one (a rare big entry or
    /// catch-up batch) is dropped after use.
    static let recordBufferKeptBytesMax = 1 << 20
    /// Writes into the active segment so far, and how many of them a finished sync covers
    /// (a sync may run on another thread: see ``RaftLogSync``).
    var writeGeneration: UInt64 = 0
    var syncedGeneration: UInt64 = 0
    /// Whether the active segment holds writes not yet covered by a finished sync. Setting it
    /// records a write; clearing it, a sync of everything written so far.
    var hasUnsyncedWrites: Bool {
        get { syncedGeneration < writeGeneration }
        set {
            if newValue { writeGeneration += 1 } else { syncedGeneration = writeGeneration }
        }
    }
    /// Set after a failed write or sync; every later call throws it.
    var failure: StorageError?

    init(directory: String, options: RaftLogStoreOptions) {
        precondition(
            options.entryBytesMax > 0 && options.entryBytesMax <= Int(UInt32.max),
            "entryBytesMax \(options.entryBytesMax) outside 1...UInt32.max")
        precondition(options.segmentBytesMax > 0, "segmentBytesMax \(options.segmentBytesMax)")
        precondition(options.snapshotBytesMax >= 0, "snapshotBytesMax \(options.snapshotBytesMax)")
        self.directory = directory
        self.options = options
    }

    /// Opens the store in `directory` (created when missing) and recovers it: leftover
    /// temporary files are removed, a torn tail of the last segment is cut and reported, damage
    /// before it is handled by ``RaftLogStoreOptions/corruptionPolicy`` (by default the open
    /// fails with ``StorageError/corrupt(file:offset:reason:)``), and the log is reconciled
    /// with the snapshot (Raft §7). A corrupt snapshot file always fails the open.
    public static func open(
        directory: String, options: RaftLogStoreOptions = RaftLogStoreOptions()
    ) throws(StorageError) -> RaftLogStore {
        try RaftLogFileSystem.createDirectory(directory, device: options.device)
        let store = RaftLogStore(directory: directory, options: options)
        try store.recover()
        return store
    }

    /// What a restarted ``RaftNode`` needs: the hard state, the snapshot and the entries after
    /// it, as written. After ``sync()`` this is exactly what reopening the store yields.
    public var durableState: RaftDurableState {
        RaftDurableState(
            hardState: image.hardState, snapshot: latestSnapshot, entries: image.entries)
    }

    /// The latest hard state written.
    public var hardState: RaftHardState { image.hardState }
    /// The latest snapshot written.
    public var snapshot: RaftSnapshot? { latestSnapshot }

    /// The latest snapshot's file, to read its data in pieces (nil without one).
    public var snapshotFile: RaftSnapshotFile? { latestSnapshotFile }

    /// `count` bytes of the data of the snapshot with `metadata` from `offset` (a leader's
    /// chunk); nil when the store's snapshot is another one (it was replaced meanwhile).
    public func readSnapshotData(
        of metadata: RaftSnapshotMetadata, offset: UInt64, count: Int
    ) throws(StorageError) -> [UInt8]? {
        guard let file = latestSnapshotFile, file.snapshot.metadata == metadata else { return nil }
        return try file.readData(offset: offset, count: count)
    }
    /// The entries after the snapshot, contiguous and ascending.
    public var entries: [RaftEntry] { image.entries }
    /// The index of the first entry held (one past the snapshot).
    public var firstIndex: LogIndex { image.baseIndex.next }
    /// The index of the last entry (or of the snapshot when no entry follows it).
    public var lastIndex: LogIndex { image.lastIndex }
    /// The term at ``lastIndex``.
    public var lastTerm: Term { image.lastTerm }
    /// The index of the snapshot (zero without one).
    public var snapshotIndex: LogIndex { image.baseIndex }

    /// The entry at `index`, if held.
    public func entry(at index: LogIndex) -> RaftEntry? {
        guard index > image.baseIndex, index <= image.lastIndex else { return nil }
        return image.entries[Int(index.rawValue - image.baseIndex.rawValue - 1)]
    }

    /// The names of the segment files, ascending.
    public var segmentFileNames: [String] { segments.map(\.name) }

    /// The device the files live on (``RaftLogStoreOptions/device``).
    var device: any StorageDevice { options.device }

    /// Throws the recorded failure, if any.
    func checkWritable() throws(StorageError) {
        if let failure { throw .failed("an earlier write or sync failed: \(failure)") }
    }
}
