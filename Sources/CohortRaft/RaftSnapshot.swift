/// A snapshot of the application's state machine through ``RaftSnapshotMetadata/index``.
/// The data is opaque to Raft: the application produces it (``RaftNode/compact(upTo:snapshotData:)``)
/// and restores from it (``RaftReady/snapshot``).
public struct RaftSnapshot: Hashable, Sendable {
    /// Which log prefix it replaces.
    public var metadata: RaftSnapshotMetadata
    /// The application's serialized state. Empty on witnesses, which keep no data.
    public var data: [UInt8]

    /// Creates a snapshot.
    public init(metadata: RaftSnapshotMetadata, data: [UInt8]) {
        self.metadata = metadata
        self.data = data
    }
}
