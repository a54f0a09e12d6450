/// Deliberate bugs, for proving that the simulator and the checkers catch unsafe Raft
/// implementations (DESIGN.md §6). Empty by default; never set in production. Each option
/// breaks exactly one rule, and a node with any fault set skips the preconditions that would
/// otherwise trap on the damage, so that the checkers (not a crash) report it.
public struct RaftFaults: OptionSet, Hashable, Sendable {
    /// The raw bits.
    public var rawValue: UInt32

    /// Creates a fault set from raw bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Grants a vote to every candidate with an up-to-date log, even after voting for another
    /// in the same term (breaks election safety, Raft §5.2).
    public static let grantMultipleVotesPerTerm = RaftFaults(rawValue: 1 << 0)
    /// Commits an entry of an earlier term as soon as a quorum holds it (breaks Raft §5.4.2,
    /// the Figure 8 scenario).
    public static let commitPreviousTermByCounting = RaftFaults(rawValue: 1 << 1)
    /// Ignores terms as fencing tokens (Raft §5.1): a follower accepts AppendEntries,
    /// heartbeats and snapshots from a deposed leader whose term is stale, and a leader keeps
    /// leading when answers carry a newer term.
    public static let skipTermCheck = RaftFaults(rawValue: 1 << 2)
    /// Leaves `votedFor` out of the hard state handed out for persistence, so a restarted node
    /// can vote twice in one term (breaks the persistence rule of Raft Figure 2).
    public static let voteNotPersisted = RaftFaults(rawValue: 1 << 3)
}
