/// A piece of a snapshot a follower received, for its host to write (in order, before the
/// ready's messages go out): the first of a transfer has offset 0 and starts the data afresh.
/// The ready whose ``RaftReady/snapshot`` has the same metadata completes it.
public struct RaftSnapshotChunk: Hashable, Sendable {
    /// The snapshot the bytes belong to.
    public var metadata: RaftSnapshotMetadata
    /// Where `bytes` start in the snapshot's data.
    public var offset: UInt64
    /// The data.
    public var bytes: [UInt8]

    /// Creates a chunk.
    public init(metadata: RaftSnapshotMetadata, offset: UInt64, bytes: [UInt8]) {
        self.metadata = metadata
        self.offset = offset
        self.bytes = bytes
    }
}
