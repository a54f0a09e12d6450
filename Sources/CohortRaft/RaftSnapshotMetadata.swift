import CohortCore

/// Which log prefix a snapshot replaces.
public struct RaftSnapshotMetadata: Hashable, Sendable {
    /// The last index the snapshot includes.
    public var index: LogIndex
    /// The term of the entry at `index`.
    public var term: Term
    /// The membership in effect at `index`.
    public var membership: RaftMembership

    /// Creates snapshot metadata.
    public init(index: LogIndex, term: Term, membership: RaftMembership) {
        self.index = index
        self.term = term
        self.membership = membership
    }
}
