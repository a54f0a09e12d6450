/// The role of a node without its role-specific state.
public enum RaftRoleKind: Hashable, Sendable {
    /// Follows a leader (or waits for one).
    case follower
    /// Runs a pre-vote round; its term has not changed yet.
    case preCandidate
    /// Runs an election in its term.
    case candidate
    /// Leads its term.
    case leader
}
