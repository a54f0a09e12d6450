import CohortCore

/// A node's role, with the state that only that role has.
public enum RaftRole: Hashable, Sendable {
    /// Follows `leader` (nil while no leader is known in the current term).
    case follower(leader: NodeID?)
    /// Collects pre-votes; the term has not been raised.
    case preCandidate(RaftVoteTally)
    /// Collects votes for the current term.
    case candidate(RaftVoteTally)
    /// Leads the current term.
    case leader(RaftLeaderState)

    /// The role without its state.
    public var kind: RaftRoleKind {
        switch self {
        case .follower: return .follower
        case .preCandidate: return .preCandidate
        case .candidate: return .candidate
        case .leader: return .leader
        }
    }
}
