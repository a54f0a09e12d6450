import CohortCore

/// The answer to AppendEntries.
public enum RaftAppendEntriesResponse: Hashable, Sendable {
    /// The follower's log matches the leader's through `matchIndex`, durably.
    case accepted(matchIndex: LogIndex)
    /// The follower's log has no entry at `previousLogIndex` with the request's term. The hint
    /// is the follower's last entry at or below `previousLogIndex` whose term is at most the
    /// request's `previousLogTerm` (term zero when unknown), so the leader can skip a whole
    /// conflicting term per round trip instead of one entry (Raft §5.3, fast backtracking).
    case rejected(previousLogIndex: LogIndex, hintIndex: LogIndex, hintTerm: Term)
}
