import CohortCore

/// One chunk of a snapshot (Raft §7). Chunks go in order; the receiver assembles them and
/// installs the snapshot when the last arrives.
public struct RaftInstallSnapshotRequest: Hashable, Sendable {
    /// The snapshot being sent.
    public var metadata: RaftSnapshotMetadata
    /// Where `chunk` starts in the snapshot data.
    public var offset: UInt64
    /// At most ``RaftConfig/snapshotChunkBytesMax`` bytes of data.
    public var chunk: [UInt8]
    /// True when `chunk` ends the data.
    public var isLastChunk: Bool

    /// Creates a snapshot chunk.
    public init(metadata: RaftSnapshotMetadata, offset: UInt64, chunk: [UInt8], isLastChunk: Bool) {
        self.metadata = metadata
        self.offset = offset
        self.chunk = chunk
        self.isLastChunk = isLastChunk
    }
}
