import CohortCore

/// A RequestVote or pre-vote request (Raft §5.2, thesis §9.6).
public struct RaftVoteRequest: Hashable, Sendable {
    /// True for a pre-vote: the receiver answers as it would vote but changes no state.
    public var isPreVote: Bool
    /// The index of the candidate's last log entry (Raft §5.4.1).
    public var lastLogIndex: LogIndex
    /// The term of the candidate's last log entry.
    public var lastLogTerm: Term
    /// True when the election was started by a leadership transfer, so receivers answer even
    /// while they believe a leader is alive.
    public var isLeadershipTransfer: Bool

    /// Creates a vote request.
    public init(
        isPreVote: Bool, lastLogIndex: LogIndex, lastLogTerm: Term, isLeadershipTransfer: Bool
    ) {
        self.isPreVote = isPreVote
        self.lastLogIndex = lastLogIndex
        self.lastLogTerm = lastLogTerm
        self.isLeadershipTransfer = isLeadershipTransfer
    }
}
