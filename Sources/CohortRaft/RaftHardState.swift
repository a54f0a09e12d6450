import CohortCore

/// The state a node must persist before sending the messages of the same ``RaftReady``
/// (Raft Figure 2: currentTerm and votedFor; the commit index is kept so a restart does not
/// re-learn it).
public struct RaftHardState: Hashable, Sendable, CustomStringConvertible {
    /// The current term.
    public var term: Term
    /// The candidate voted for in `term`, if any.
    public var votedFor: NodeID?
    /// The highest index known committed.
    public var commitIndex: LogIndex

    /// The state of a node that has never run.
    public static let initial = RaftHardState(term: .zero, votedFor: nil, commitIndex: .zero)

    /// Creates a hard state.
    public init(term: Term, votedFor: NodeID?, commitIndex: LogIndex) {
        self.term = term
        self.votedFor = votedFor
        self.commitIndex = commitIndex
    }

    /// A short form such as `t3 vote=n1 commit=i7`.
    public var description: String {
        "\(term) vote=\(votedFor.map { "\($0)" } ?? "-") commit=\(commitIndex)"
    }
}
