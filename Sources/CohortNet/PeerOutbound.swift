import CohortRaft

/// One item queued for a peer: a Raft message or an opaque application payload
/// (``CohortCore/PeerFrameKind/forward``).
enum PeerOutbound: Hashable, Sendable {
    case raft(RaftMessage)
    case forward([UInt8])
}
