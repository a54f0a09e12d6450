import CohortCore

/// The kinds of Raft messages and their contents.
public enum RaftMessageBody: Hashable, Sendable {
    /// RequestVote (Raft §5.2) or a pre-vote request.
    case voteRequest(RaftVoteRequest)
    /// The answer to a vote or pre-vote request.
    case voteResponse(isPreVote: Bool, granted: Bool)
    /// AppendEntries (Raft §5.3).
    case appendEntriesRequest(RaftAppendEntriesRequest)
    /// The answer to AppendEntries.
    case appendEntriesResponse(RaftAppendEntriesResponse)
    /// The leader's periodic heartbeat. `leaderCommit` is at most the receiver's match index,
    /// so the receiver can commit it without a log check; `round` numbers the heartbeat for
    /// ReadIndex and lease confirmation.
    case heartbeatRequest(leaderCommit: LogIndex, round: UInt64)
    /// The answer to a heartbeat, echoing its round. Also sent, with round 0, to a node
    /// whose term is stale so it learns the newer term.
    case heartbeatResponse(round: UInt64)
    /// One chunk of a snapshot (Raft §7).
    case installSnapshotRequest(RaftInstallSnapshotRequest)
    /// The answer to a snapshot chunk.
    case installSnapshotResponse(RaftInstallSnapshotResponse)
    /// A follower forwards a ReadIndex request to the leader.
    case readIndexRequest(requestID: UInt64)
    /// The leader's answer to a forwarded ReadIndex request: the read may be served once the
    /// follower has applied `index`.
    case readIndexResponse(requestID: UInt64, index: LogIndex)
    /// Leadership transfer: the receiver starts an election at once (Raft thesis §3.10).
    case timeoutNow

    /// Whether only a leader sends this kind of message.
    public var isFromLeader: Bool {
        switch self {
        case .appendEntriesRequest, .heartbeatRequest, .installSnapshotRequest: return true
        default: return false
        }
    }

    /// Whether this is an answer to a leader's request.
    public var isLeaderBound: Bool {
        switch self {
        case .appendEntriesResponse, .heartbeatResponse, .installSnapshotResponse: return true
        default: return false
        }
    }
}
