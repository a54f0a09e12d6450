import CohortCore

/// AppendEntries (Raft §5.3): entries that follow `previousLogIndex`, and the leader's commit.
public struct RaftAppendEntriesRequest: Hashable, Sendable {
    /// The index just before `entries`.
    public var previousLogIndex: LogIndex
    /// The term of the entry at `previousLogIndex`.
    public var previousLogTerm: Term
    /// Contiguous entries from `previousLogIndex + 1`; empty for a probe.
    public var entries: [RaftEntry]
    /// The leader's commit index.
    public var leaderCommit: LogIndex

    /// Creates an AppendEntries request.
    public init(
        previousLogIndex: LogIndex, previousLogTerm: Term, entries: [RaftEntry],
        leaderCommit: LogIndex
    ) {
        self.previousLogIndex = previousLogIndex
        self.previousLogTerm = previousLogTerm
        self.entries = entries
        self.leaderCommit = leaderCommit
    }
}
