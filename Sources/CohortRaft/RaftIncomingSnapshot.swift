/// A snapshot a follower is assembling from chunks.
struct RaftIncomingSnapshot: Hashable, Sendable {
    var metadata: RaftSnapshotMetadata
    var data: [UInt8]
}
