/// A snapshot the leader is sending to one follower, chunk by chunk.
public struct RaftSnapshotTransfer: Hashable, Sendable {
    /// Which snapshot.
    public internal(set) var metadata: RaftSnapshotMetadata
    /// How many bytes the follower has acknowledged.
    public internal(set) var offsetAcknowledged: UInt64
}
