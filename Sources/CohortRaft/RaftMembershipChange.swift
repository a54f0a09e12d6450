import CohortCore

/// One single-server membership change (Raft thesis §4.1). Changes take effect on each node
/// as soon as the entry is appended to its log, and the leader starts the next change only
/// after the previous one is committed.
public enum RaftMembershipChange: Hashable, Sendable {
    /// Adds a node as a learner that the leader promotes to voter once it has caught up
    /// (Raft thesis §4.2.1), so a new voter never stalls commits while it copies the log.
    case addVoter(NodeID)
    /// Adds a permanent learner (a read replica).
    case addLearner(NodeID)
    /// Adds a witness: it votes immediately and keeps log metadata only.
    case addWitness(NodeID)
    /// Makes a learner a voter.
    case promoteLearner(NodeID)
    /// Removes a member of any kind. A leader that removes itself keeps leading until the
    /// change commits, then steps down.
    case remove(NodeID)
}
