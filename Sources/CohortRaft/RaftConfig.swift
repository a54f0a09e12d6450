/// Tunables and bounds of one Raft node. Times are in ticks: the driver calls
/// ``RaftNode/tick()`` at a fixed rate of its choosing. All bounds live here, in one place.
public struct RaftConfig: Hashable, Sendable {
    /// Fewest ticks without hearing from a leader before a follower starts an election. Also
    /// the check-quorum period, the lease length and the leadership-transfer deadline.
    public var electionTimeoutTicksMin: Int = 10
    /// Most ticks before a follower starts an election; each timeout is drawn uniformly from
    /// `electionTimeoutTicksMin...electionTimeoutTicksMax` with the node's seeded generator.
    public var electionTimeoutTicksMax: Int = 20
    /// Ticks between the leader's heartbeats. Must be below `electionTimeoutTicksMin`.
    public var heartbeatIntervalTicks: Int = 2
    /// Runs a pre-vote round before raising the term, so a node rejoining from a partition
    /// does not disrupt a healthy leader (Raft thesis §9.6).
    public var preVote: Bool = true
    /// The leader steps down when it has not heard from a quorum within
    /// `electionTimeoutTicksMin`, and followers that heard from a leader within that time
    /// ignore vote requests (Raft thesis §6.2).
    public var checkQuorum: Bool = true
    /// Which voters must hold an entry for it to commit.
    public var commitMode: RaftCommitMode = .majority
    /// Most entries in one AppendEntries request.
    public var entriesPerMessageMax: Int = 64
    /// Most payload bytes in one AppendEntries request (a single larger entry still goes
    /// alone, so a request carries at most ``appendEntriesBytesMax``).
    public var bytesPerMessageMax: Int = 1 << 20
    /// Most AppendEntries requests in flight to one follower in the replicate state.
    public var inflightMessagesMax: Int = 8
    /// Largest payload one proposal may carry. It may exceed `bytesPerMessageMax`: such an
    /// entry travels in an AppendEntries request of its own.
    public var entryBytesMax: Int = 1 << 20
    /// Most entries the leader holds beyond its commit index; proposals beyond are rejected
    /// (backpressure).
    public var uncommittedEntriesMax: Int = 4096
    /// Most committed entries handed out for applying in one ``RaftReady``.
    public var committedEntriesPerReadyMax: Int = 1024
    /// Most snapshot bytes in one InstallSnapshot chunk.
    public var snapshotChunkBytesMax: Int = 64 << 10
    /// Largest snapshot a follower receives (its host writes the chunks to disk; Raft holds
    /// none of them); larger transfers are dropped.
    public var incomingSnapshotBytesMax: Int = 1 << 40
    /// Most ReadIndex requests a leader holds unanswered.
    public var readRequestsPendingMax: Int = 1024
    /// Heartbeat rounds whose send time the leader remembers for lease reads.
    public var heartbeatRoundsTrackedMax: Int = 64
    /// A learner added with ``RaftMembershipChange/addVoter(_:)`` is promoted once its match
    /// index is within this many entries of the leader's last index.
    public var learnerPromotionLagEntriesMax: Int = 16
    /// When set (and `checkQuorum` is on), the leader answers reads from a lease without a
    /// heartbeat round while a quorum acknowledged a heartbeat sent less than
    /// `electionTimeoutTicksMin - leaseClockDriftBoundTicks` ticks ago. The bound must cover
    /// how far tick rates of nodes can drift apart within an election timeout. Off by default.
    /// With leases on, a node that (re)starts refuses votes for its first
    /// `electionTimeoutTicksMin` ticks, since it cannot know whether it acknowledged a lease.
    public var leaseClockDriftBoundTicks: Int? = nil
    /// Deliberate bugs for testing the simulator. Empty in production.
    public var faults: RaftFaults = []

    /// The default configuration.
    public init() {}

    /// Most entry payload bytes one AppendEntries request carries: a batch of
    /// `bytesPerMessageMax`, or a single larger entry alone (``RaftLog``'s batching admits
    /// the first entry whatever its size). Entry headers come on top (``RaftEntry/sizeBytes``).
    public var appendEntriesBytesMax: Int { max(bytesPerMessageMax, entryBytesMax) }

    /// Traps when the settings contradict each other; called by ``RaftNode``'s initializer.
    public func validate() {
        precondition(
            heartbeatIntervalTicks >= 1 && heartbeatIntervalTicks < electionTimeoutTicksMin,
            "heartbeatIntervalTicks \(heartbeatIntervalTicks) must be in 1..<\(electionTimeoutTicksMin)"
        )
        precondition(
            electionTimeoutTicksMax >= electionTimeoutTicksMin,
            "electionTimeoutTicksMax \(electionTimeoutTicksMax) < min \(electionTimeoutTicksMin)")
        precondition(entriesPerMessageMax >= 1, "entriesPerMessageMax \(entriesPerMessageMax) < 1")
        precondition(bytesPerMessageMax >= 1, "bytesPerMessageMax \(bytesPerMessageMax) < 1")
        precondition(inflightMessagesMax >= 1, "inflightMessagesMax \(inflightMessagesMax) < 1")
        precondition(entryBytesMax >= 1, "entryBytesMax \(entryBytesMax) < 1")
        precondition(uncommittedEntriesMax >= 1, "uncommittedEntriesMax < 1")
        precondition(committedEntriesPerReadyMax >= 1, "committedEntriesPerReadyMax < 1")
        precondition(snapshotChunkBytesMax >= 1, "snapshotChunkBytesMax < 1")
        precondition(readRequestsPendingMax >= 1, "readRequestsPendingMax < 1")
        precondition(heartbeatRoundsTrackedMax >= 1, "heartbeatRoundsTrackedMax < 1")
        precondition(learnerPromotionLagEntriesMax >= 0, "learnerPromotionLagEntriesMax < 0")
        if let drift = leaseClockDriftBoundTicks {
            precondition(
                drift >= 0 && drift < electionTimeoutTicksMin,
                "leaseClockDriftBoundTicks \(drift) must be in 0..<\(electionTimeoutTicksMin)")
            precondition(checkQuorum, "lease reads need checkQuorum")
        }
    }
}
