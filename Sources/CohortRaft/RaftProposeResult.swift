import CohortCore

/// The outcome of a proposal or membership change.
public enum RaftProposeResult: Hashable, Sendable {
    /// Appended to the leader's log at `index` in `term`. It commits when a committed entry
    /// at `index` has `term`; if another term's entry commits there, it was lost.
    case appended(index: LogIndex, term: Term)
    /// This node is not the leader; `leader` is the one it knows, if any, to forward to.
    case notLeader(leader: NodeID?)
    /// The leader refused.
    case rejected(RaftRejection)
}
