import CohortCore

/// The outcome of a ReadIndex request or a leadership transfer.
public enum RaftRequestResult: Hashable, Sendable {
    /// Accepted; a read's answer will come as a ``RaftReadState``.
    case accepted
    /// A follower forwarded the read to `leader`; the answer comes as a ``RaftReadState`` if
    /// the messages get through (the driver should time out otherwise).
    case forwarded(to: NodeID)
    /// This node is not the leader and cannot forward; `leader` is the one it knows, if any.
    case notLeader(leader: NodeID?)
    /// The leader refused.
    case rejected(RaftRejection)
}
