import CohortCore

extension RaftNode {
    /// Handles a message from another member. Messages with a stale term are answered with
    /// the current term (so a deposed leader learns it) and otherwise ignored; a newer term
    /// makes this node a follower of it first (Raft §5.1), except for pre-votes, which change
    /// no state, and vote requests that arrive while a live leader is known (check-quorum).
    public mutating func receive(_ message: RaftMessage) {
        precondition(
            message.to == id, "\(id) received a message addressed to \(message.to): \(message)")
        guard message.from != id else { return }
        var isStaleButAccepted = false
        if message.term > term {
            switch message.body {
            case .voteRequest(let request):
                // Thesis §9.6/§6.2: a node that heard from a leader recently ignores elections
                // unless the leader itself handed over.
                if !request.isLeadershipTransfer && isInLease() { return }
                if !request.isPreVote { becomeFollower(term: message.term, leader: nil) }
            case .voteResponse(isPreVote: true, granted: true):
                break
            case _
            where message.body.isLeaderBound && isLeader
                && config.faults.contains(.skipTermCheck):
                // The fault: a deposed leader ignores the newer term and keeps leading.
                break
            case .appendEntriesRequest, .heartbeatRequest, .installSnapshotRequest:
                becomeFollower(term: message.term, leader: message.from)
            default:
                becomeFollower(term: message.term, leader: nil)
            }
        } else if message.term < term {
            if message.body.isFromLeader && config.faults.contains(.skipTermCheck) {
                isStaleButAccepted = true
            } else {
                switch message.body {
                case .appendEntriesRequest, .heartbeatRequest, .installSnapshotRequest:
                    send(to: message.from, term: term, body: .heartbeatResponse(round: 0))
                case .voteRequest(let request) where request.isPreVote:
                    send(
                        to: message.from, term: term,
                        body: .voteResponse(isPreVote: true, granted: false))
                default:
                    break
                }
                return
            }
        }
        dispatch(message, isStaleButAccepted: isStaleButAccepted)
    }

    private mutating func dispatch(_ message: RaftMessage, isStaleButAccepted: Bool) {
        let from = message.from
        switch message.body {
        case .voteRequest(let request):
            handleVoteRequest(from: from, messageTerm: message.term, request: request)
        case .voteResponse(let isPreVote, let granted):
            handleVoteResponse(
                from: from, messageTerm: message.term, isPreVote: isPreVote, granted: granted)
        case .appendEntriesRequest(let request):
            if isStaleButAccepted || acknowledgeLeader(from) {
                handleAppendEntries(from: from, request: request, replyTerm: message.term)
            }
        case .heartbeatRequest(let leaderCommit, let round):
            if isStaleButAccepted || acknowledgeLeader(from) {
                handleHeartbeat(
                    from: from, leaderCommit: leaderCommit, round: round, replyTerm: message.term)
            }
        case .installSnapshotRequest(let request):
            if isStaleButAccepted || acknowledgeLeader(from) {
                handleInstallSnapshot(from: from, request: request)
            }
        case .appendEntriesResponse(let response):
            withLeaderState { node, state in
                node.handleAppendEntriesResponse(from: from, response: response, state: &state)
            }
        case .heartbeatResponse(let round):
            withLeaderState { node, state in
                node.handleHeartbeatResponse(from: from, round: round, state: &state)
            }
        case .installSnapshotResponse(let response):
            withLeaderState { node, state in
                node.handleInstallSnapshotResponse(from: from, response: response, state: &state)
            }
        case .readIndexRequest(let requestID):
            withLeaderState { node, state in
                _ = node.acceptRead(requestID: requestID, requester: from, state: &state)
            }
        case .readIndexResponse(let requestID, let index):
            if leader == from {
                outboundReadStates.append(RaftReadState(requestID: requestID, index: index))
            }
        case .timeoutNow:
            // Thesis §3.10: the leader chose this node; skip pre-vote, the leader is aware.
            if isPromotable && !isLeader {
                startElection(isLeadershipTransfer: true)
            }
        }
    }

    /// Makes `sender`, which sent a leader-only message in the current term, this node's
    /// leader. Returns false when the message must be ignored.
    mutating func acknowledgeLeader(_ sender: NodeID) -> Bool {
        switch role {
        case .follower(let known) where known == sender:
            electionElapsedTicks = 0
        case .leader:
            // Two leaders in one term break election safety; only a faulty node gets here.
            precondition(!config.faults.isEmpty, "\(id) and \(sender) both lead \(term)")
            return false
        default:
            becomeFollower(term: term, leader: sender)
        }
        return true
    }

    /// Runs `body` on the leader state and writes it back, then handles a self-removal that
    /// committed meanwhile. Does nothing on a non-leader.
    mutating func withLeaderState(_ body: (inout RaftNode, inout RaftLeaderState) -> Void) {
        guard case .leader(var state) = role else { return }
        body(&self, &state)
        storeLeaderState(state)
        stepDownIfRemoved()
    }
}
