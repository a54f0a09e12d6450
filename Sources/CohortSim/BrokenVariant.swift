import CohortNode
import CohortRaft
import CohortReplication

/// A deliberately broken system the simulator must catch (DESIGN.md §6): one of CohortRaft's
/// `RaftFaults`, or one of the production group's own policy bugs (`LeaderGroupFaults`).
public enum BrokenVariant: String, CaseIterable, Hashable, Sendable {
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
    /// A session read is served before its token is applied
    /// (`LeaderGroupFaults.sessionReadBeforeApplied`).
    case sessionReadBeforeApplied
    /// A `leader`-mode write is acknowledged before its fsync
    /// (`LeaderGroupFaults.leaderAckBeforeDurable`).
    case leaderAckBeforeDurable
    /// A follower serves `stale` reads without knowing how far behind it is
    /// (`LeaderGroupFaults.staleReadUnbounded`).
    case staleReadUnbounded
    /// A forwarded write delivered twice is applied twice
    /// (`LeaderGroupFaults.forwardRetryDuplicates`).
    case forwardRetryDuplicates
    /// A proxied command delivered twice is served twice
    /// (`NodeShellFaults.proxiedServedTwice`).
    case proxiedServedTwice

    /// The Raft faults this variant switches on.
    public var raftFaults: RaftFaults {
        switch self {
        case .grantMultipleVotesPerTerm: return .grantMultipleVotesPerTerm
        case .commitPreviousTermByCounting: return .commitPreviousTermByCounting
        case .skipTermCheck: return .skipTermCheck
        case .voteNotPersisted: return .voteNotPersisted
        case .sessionReadBeforeApplied, .leaderAckBeforeDurable, .staleReadUnbounded,
            .forwardRetryDuplicates, .proxiedServedTwice:
            return []
        }
    }

    /// The group policy faults this variant switches on.
    public var groupFaults: LeaderGroupFaults {
        switch self {
        case .sessionReadBeforeApplied: return .sessionReadBeforeApplied
        case .leaderAckBeforeDurable: return .leaderAckBeforeDurable
        case .staleReadUnbounded: return .staleReadUnbounded
        case .forwardRetryDuplicates: return .forwardRetryDuplicates
        default: return []
        }
    }

    /// The node shell's policy faults this variant switches on.
    public var shellFaults: NodeShellFaults {
        self == .proxiedServedTwice ? .proxiedServedTwice : []
    }
}
