import CohortCore

/// One chunk of a snapshot (Raft §7). Chunks go in order; the receiver assembles them and
/// installs the snapshot when the last arrives.
public struct RaftInstallSnapshotRequest: Hashable, Sendable {
    /// The snapshot being sent.
    public var metadata: RaftSnapshotMetadata
    /// Where `chunk` starts in the snapshot data.
    public var offset: UInt64
    /// At most ``RaftConfig/snapshotChunkBytesMax`` bytes of data. Empty as the leader's
    /// ``RaftNode`` emits it: its host reads ``chunkLength`` bytes at `offset` from the
    /// snapshot's data into it before sending (Raft never holds snapshot data).
    public var chunk: [UInt8]
    /// The bytes this chunk carries (`chunk.count` once filled, and on every decoded one).
    public var chunkLength: Int
    /// True when `chunk` ends the data.
    public var isLastChunk: Bool

    /// Creates a snapshot chunk.
    public init(metadata: RaftSnapshotMetadata, offset: UInt64, chunk: [UInt8], isLastChunk: Bool) {
        self.init(
            metadata: metadata, offset: offset, chunkLength: chunk.count, isLastChunk: isLastChunk)
        self.chunk = chunk
    }

    /// Creates a chunk for the host to fill with `chunkLength` bytes.
    public init(metadata: RaftSnapshotMetadata, offset: UInt64, chunkLength: Int, isLastChunk: Bool)
    {
        self.metadata = metadata
        self.offset = offset
        self.chunk = []
        self.chunkLength = chunkLength
        self.isLastChunk = isLastChunk
    }

    /// Whether the chunk still waits for its host to read its bytes.
    public var needsData: Bool { chunk.count != chunkLength }
}
