import CohortRaft

/// A snapshot the driver took itself, already encoded, written and fdatasynced under a
/// temporary name by a ``RaftSnapshotFileWriter`` off the thread that owns the store.
/// ``RaftLogStore/installSnapshot(_:)`` renames it into place, or ``discard()`` removes it.
/// A leftover temporary file (a crash in between) is removed when the store next opens.
public struct PreparedRaftSnapshot: Sendable {
    public let snapshot: RaftSnapshot
    let directory: String
    let temporaryName: String
    let device: any StorageDevice

    /// Removes the temporary file; for a snapshot that will not be installed.
    public func discard() {
        try? device.remove(directory + "/" + temporaryName)
    }
}

/// Writes snapshot files for a ``RaftLogStore`` on any thread: it holds only the store's
/// directory and bounds, never the store. Writing a multi-megabyte snapshot and waiting for
/// its fdatasync takes long enough (80-290 ms measured for 12 MB under load) that a Raft loop
/// doing it itself would miss heartbeats.
public struct RaftSnapshotFileWriter: Sendable {
    let directory: String
    let snapshotBytesMax: Int
    let device: any StorageDevice

    /// The temporary name; distinct from the one a received snapshot is written under, so
    /// that the two never overwrite each other.
    static let temporaryName = RaftLogStore.snapshotFileName + ".local.tmp"

    /// Encodes `snapshot` and writes it durably under the temporary name.
    public func prepare(_ snapshot: RaftSnapshot) throws(StorageError) -> PreparedRaftSnapshot {
        guard snapshot.data.count <= snapshotBytesMax else {
            throw .valueTooLarge(bytes: snapshot.data.count, max: snapshotBytesMax)
        }
        try RaftLogFileSystem.writeDurably(
            RaftLogSnapshotCodec.encode(snapshot), name: Self.temporaryName,
            directory: directory, device: device)
        return PreparedRaftSnapshot(
            snapshot: snapshot, directory: directory, temporaryName: Self.temporaryName,
            device: device)
    }
}
