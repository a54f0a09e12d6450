/// A snapshot of the application's state machine through ``RaftSnapshotMetadata/index``.
///
/// Raft never holds its data: the application writes it (to a file, before
/// ``RaftNode/compact(upTo:snapshotBytes:)``), the host reads the chunks it sends from there
/// (``RaftInstallSnapshotRequest/chunkLength``) and writes the chunks it receives
/// (``RaftReady/snapshotChunks``), and restores from it (``RaftReady/snapshot``). So a state
/// machine larger than memory can be snapshotted and sent.
public struct RaftSnapshot: Hashable, Sendable {
    /// Which log prefix it replaces.
    public var metadata: RaftSnapshotMetadata
    /// The length of the application's data in bytes. Zero on witnesses, which keep no data.
    public var size: UInt64

    /// Creates a snapshot.
    public init(metadata: RaftSnapshotMetadata, size: UInt64) {
        self.metadata = metadata
        self.size = size
    }
}
