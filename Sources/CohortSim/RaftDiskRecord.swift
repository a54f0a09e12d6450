import CohortRaft

/// One write of a simulated node's Raft persistence, in the order a `RaftReady` asks for.
public enum RaftDiskRecord: Hashable, Sendable {
    /// A snapshot received from the leader: replaces the whole durable log.
    case installSnapshot(RaftSnapshot)
    /// A snapshot the node took itself: replaces the durable entries it covers.
    case compaction(RaftSnapshot)
    /// Entries to append, after dropping any durable entry at or after the first one's index.
    case entries([RaftEntry])
    /// The hard state (term, vote, commit index).
    case hardState(RaftHardState)
}
