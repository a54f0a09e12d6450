import CohortCore

/// A ReadIndex request the leader has not answered yet.
struct RaftPendingRead: Hashable, Sendable {
    /// The requester's id for the read.
    var requestID: UInt64
    /// The node that asked (the leader itself, or a follower that forwarded the request).
    var requester: NodeID
    /// The commit index when the request was accepted; nil while the leader has not committed
    /// an entry of its term.
    var index: LogIndex?
    /// The heartbeat round whose quorum acknowledgement confirms the read; nil until sent.
    var round: UInt64?
}
