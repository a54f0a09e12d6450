import CohortRaft

/// A snapshot the driver took itself, written and fdatasynced under a temporary name by a
/// ``RaftSnapshotFileWriter`` off the thread that owns the store.
/// ``RaftLogStore/installSnapshot(_:)`` renames it into place, or ``discard()`` removes it.
/// A leftover temporary file (a crash in between) is removed when the store next opens.
public struct PreparedRaftSnapshot: Sendable {
    public let snapshot: RaftSnapshot
    let directory: String
    let temporaryName: String
    let dataOffset: Int
    let device: any StorageDevice

    /// Removes the temporary file; for a snapshot that will not be installed.
    public func discard() {
        try? device.remove(directory + "/" + temporaryName)
    }
}

/// Writes snapshot files for a ``RaftLogStore`` on any thread: it holds only the store's
/// directory and bounds, never the store. Writing a large snapshot and waiting for its
/// fdatasync takes long enough (80-290 ms measured for 12 MB under load) that a Raft loop
/// doing it itself would miss heartbeats. The data streams (``begin(_:)``): a state machine
/// larger than memory can be snapshotted.
public struct RaftSnapshotFileWriter: Sendable {
    let directory: String
    let snapshotBytesMax: Int
    let device: any StorageDevice

    /// The temporary name; distinct from the one a received snapshot is written under, so
    /// that the two never overwrite each other.
    static let temporaryName = RaftLogStore.snapshotFileName + ".local.tmp"

    /// Starts writing a snapshot with `metadata` under the temporary name: append its data,
    /// then ``finish(_:)``.
    public func begin(_ metadata: RaftSnapshotMetadata) throws(StorageError)
        -> RaftSnapshotFileStream
    {
        try RaftLogFileSystem.createDirectory(directory, device: device)
        return try RaftSnapshotFileStream(
            path: directory + "/" + Self.temporaryName, metadata: metadata,
            dataBytesMax: snapshotBytesMax, device: device)
    }

    /// Makes what `stream` wrote durable, ready for ``RaftLogStore/installSnapshot(_:)``.
    public func finish(_ stream: RaftSnapshotFileStream) throws(StorageError)
        -> PreparedRaftSnapshot
    {
        let snapshot: RaftSnapshot
        do {
            snapshot = try stream.finish()
        } catch {
            try? device.remove(directory + "/" + Self.temporaryName)
            throw error
        }
        return PreparedRaftSnapshot(
            snapshot: snapshot, directory: directory, temporaryName: Self.temporaryName,
            dataOffset: stream.dataOffset, device: device)
    }

    /// Gives up a snapshot being written (its data could not be produced): removes the
    /// temporary file, which may be large.
    public func abandon(_ stream: RaftSnapshotFileStream) {
        try? device.remove(stream.path)
    }

    /// Writes a snapshot whose data is in memory (small ones, and tests).
    public func prepare(
        _ metadata: RaftSnapshotMetadata, data: [UInt8]
    ) throws(StorageError) -> PreparedRaftSnapshot {
        let stream = try begin(metadata)
        do {
            try stream.append(data)
        } catch {
            abandon(stream)
            throw error
        }
        return try finish(stream)
    }
}
