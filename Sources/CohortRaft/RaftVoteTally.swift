import CohortCore

/// The votes a (pre-)candidate has received in its current round.
public struct RaftVoteTally: Hashable, Sendable {
    /// Voters that granted their vote (including the candidate itself).
    public internal(set) var granted: Set<NodeID>
    /// Voters that refused.
    public internal(set) var rejected: Set<NodeID>

    init(granted: Set<NodeID>) {
        self.granted = granted
        self.rejected = []
    }
}
