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

    /// Whether the entries are contiguous after `previousLogIndex`, their terms never
    /// decrease, start at or after `previousLogTerm` and do not exceed the sender's `term`.
    public func isWellFormed(term: Term) -> Bool {
        var previousTerm = previousLogTerm
        for (offset, entry) in entries.enumerated() {
            guard entry.index.rawValue == previousLogIndex.rawValue &+ UInt64(offset + 1),
                entry.term >= previousTerm, entry.term <= term
            else { return false }
            previousTerm = entry.term
        }
        return previousLogTerm <= term
    }
}
