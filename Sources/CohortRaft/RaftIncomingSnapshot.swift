/// A snapshot a follower is receiving chunk by chunk; the bytes go to the host
/// (``RaftReady/snapshotChunks``), only their count stays here.
struct RaftIncomingSnapshot: Hashable, Sendable {
    var metadata: RaftSnapshotMetadata
    var receivedBytes: UInt64
}
