/// Deliberate bugs in the single-leader group's policy, switched on only by the simulator's
/// broken variants (DESIGN.md §6: the simulator proves it can fail). Never set in production:
/// `LeaderGroupConfiguration.faults` is empty unless a test or `cohort sim --broken` sets it.
public struct LeaderGroupFaults: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// A session read is served before this node has applied the session's token.
    public static let sessionReadBeforeApplied = LeaderGroupFaults(rawValue: 1 << 0)
    /// A `leader`-mode write is acknowledged once written, before its fsync.
    public static let leaderAckBeforeDurable = LeaderGroupFaults(rawValue: 1 << 1)
    /// A follower serves `stale` reads without knowing how far behind its leader it is.
    public static let staleReadUnbounded = LeaderGroupFaults(rawValue: 1 << 2)
    /// A forwarded write delivered twice is applied twice.
    public static let forwardRetryDuplicates = LeaderGroupFaults(rawValue: 1 << 3)
}
