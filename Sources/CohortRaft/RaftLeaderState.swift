import CohortCore

/// State only a leader has. It lives inside ``RaftRole/leader(_:)``, so it cannot exist on a
/// node that is not leading.
public struct RaftLeaderState: Hashable, Sendable {
    /// What the leader knows about every other member's log.
    public internal(set) var progress: [NodeID: RaftProgress]
    /// The voter leadership is being handed to, if a transfer is under way.
    public internal(set) var transferTarget: NodeID?
    /// Ticks since the transfer started; it is abandoned after an election timeout.
    var transferElapsedTicks: Int = 0
    /// The latest heartbeat round sent.
    public internal(set) var heartbeatRound: UInt64 = 0
    /// Rounds sent while lease-eligible, with the leader's tick count when sent, ascending.
    var heartbeatRoundSends: [RaftHeartbeatRoundSend] = []
    /// The send tick of the newest round a quorum acknowledged while lease-eligible.
    var leaseStartTick: UInt64?
    /// Reads waiting for a heartbeat quorum or for the first commit of the term.
    var pendingReads: [RaftPendingRead] = []

    init(progress: [NodeID: RaftProgress]) {
        self.progress = progress
    }

    /// The number of unanswered reads.
    public var pendingReadCount: Int { pendingReads.count }
}
