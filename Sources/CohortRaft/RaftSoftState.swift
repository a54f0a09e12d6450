import CohortCore

/// Volatile state a driver may want to show or react to: not persisted.
public struct RaftSoftState: Hashable, Sendable {
    /// The node's role.
    public var role: RaftRoleKind
    /// The leader the node knows for its term, if any.
    public var leader: NodeID?
    /// The node's term (included so a change of leader is tied to a term).
    public var term: Term

    /// Creates a soft state.
    public init(role: RaftRoleKind, leader: NodeID?, term: Term) {
        self.role = role
        self.leader = leader
        self.term = term
    }
}
