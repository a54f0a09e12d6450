/// Why a leader refused a request.
public enum RaftRejection: Hashable, Sendable {
    /// A leadership transfer is under way; retry on the new leader.
    case leadershipTransferInProgress
    /// The previous membership change has not committed yet, or the leader has not committed
    /// an entry of its term yet (required before a change, Raft thesis §4.1 errata).
    case membershipChangeInProgress
    /// The change does not apply to the current membership.
    case invalidMembershipChange
    /// The transfer target is not another voter.
    case invalidTransferTarget
    /// The proposal exceeds ``RaftConfig/entryBytesMax``.
    case entryTooLarge
    /// ``RaftConfig/uncommittedEntriesMax`` entries await commit.
    case uncommittedEntriesLimitReached
    /// ``RaftConfig/readRequestsPendingMax`` reads await confirmation.
    case readRequestsLimitReached
}
