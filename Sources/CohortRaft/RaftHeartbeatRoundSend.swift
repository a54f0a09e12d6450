/// When the leader sent one heartbeat round, for lease reads.
struct RaftHeartbeatRoundSend: Hashable, Sendable {
    /// The round number.
    var round: UInt64
    /// The leader's tick count when it sent the round.
    var tick: UInt64
}
