import CohortCore
import CohortRaft

/// One record of a Raft log segment. The log is the sequence of these across segments, in
/// write order; ``RaftLogImage`` gives their meaning.
enum RaftLogRecord: Hashable, Sendable {
    /// The first record of every segment: the segment's own id and the log position just
    /// before its first record (index and term of the last entry, or of the base). It lets a
    /// segment stand alone once compaction has removed the ones before it, and lets recovery
    /// check that each segment continues the previous one.
    case segmentStart(segmentID: UInt32, previousIndex: LogIndex, previousTerm: Term)
    /// One log entry, appended right after the current last index.
    case entry(RaftEntry)
    /// Drops the entries at `index` and after (a conflicting suffix replaced by the leader).
    /// `previousTerm` is the term at `index - 1`, so the log's base stays known even when the
    /// truncation reaches below what the remaining segments hold.
    case truncation(index: LogIndex, previousTerm: Term)
    /// The hard state from here on.
    case hardState(RaftHardState)
    /// A snapshot received from the leader replaced the whole log: it now starts after
    /// `index`, whose term is `term`.
    case logReset(index: LogIndex, term: Term)
}
