import CohortRaft

/// A deliberately broken system the simulator must catch (DESIGN.md §6): either one of
/// CohortRaft's `RaftFaults`, or the simulated node's own persistence bug.
public enum BrokenVariant: String, CaseIterable, Hashable, Sendable {
    /// The node reports entries and hard state persisted, and sends the messages that depend
    /// on them, before the fsync completes; a crash then loses acknowledged state.
    case ackBeforeFsync
    /// Raft grants two votes in one term (`RaftFaults.grantMultipleVotesPerTerm`).
    case grantMultipleVotesPerTerm
    /// Raft commits an earlier term's entry by counting replicas
    /// (`RaftFaults.commitPreviousTermByCounting`).
    case commitPreviousTermByCounting
    /// Raft accepts AppendEntries from a stale term (`RaftFaults.skipTermCheck`).
    case skipTermCheck
    /// Raft leaves its vote out of the hard state it asks to persist
    /// (`RaftFaults.voteNotPersisted`).
    case voteNotPersisted

    /// The Raft faults this variant switches on; empty for the simulator-level variant.
    public var raftFaults: RaftFaults {
        switch self {
        case .ackBeforeFsync: return []
        case .grantMultipleVotesPerTerm: return .grantMultipleVotesPerTerm
        case .commitPreviousTermByCounting: return .commitPreviousTermByCounting
        case .skipTermCheck: return .skipTermCheck
        case .voteNotPersisted: return .voteNotPersisted
        }
    }
}
