import CohortCore

extension RaftNode {
    /// Asks for a linearizable read (ReadIndex, Raft thesis §6.4). The answer arrives as a
    /// ``RaftReadState`` in a later ready: serve the read once that index is applied. The
    /// leader answers once it has committed an entry of its term and a quorum acknowledged a
    /// heartbeat sent after the request (or at once under a valid lease, when configured). A
    /// follower forwards the request to the leader it knows. Lost requests are never
    /// answered: the driver times out and retries.
    public mutating func readIndex(requestID: UInt64) -> RaftRequestResult {
        guard case .leader(var state) = role else {
            guard let known = leader else { return .notLeader(leader: nil) }
            send(to: known, term: term, body: .readIndexRequest(requestID: requestID))
            return .forwarded(to: known)
        }
        let result = acceptRead(requestID: requestID, requester: id, state: &state)
        storeLeaderState(state)
        return result
    }

    mutating func acceptRead(requestID: UInt64, requester: NodeID, state: inout RaftLeaderState)
        -> RaftRequestResult
    {
        guard state.pendingReads.count < config.readRequestsPendingMax else {
            return .rejected(.readRequestsLimitReached)
        }
        let hasCommittedInTerm = log.term(at: log.committed) == term
        if hasCommittedInTerm && isLeaseValid(state) {
            answerRead(requestID: requestID, requester: requester, index: log.committed)
            return .accepted
        }
        state.pendingReads.append(
            RaftPendingRead(
                requestID: requestID, requester: requester,
                index: hasCommittedInTerm ? log.committed : nil, round: nil))
        if hasCommittedInTerm { readRoundPending = true }
        return .accepted
    }

    /// Whether a lease lets the leader answer without a heartbeat round: a quorum answered a
    /// heartbeat sent less than an election timeout minus the drift bound ago, so no other
    /// leader can have been elected since (followers ignore elections for an election timeout
    /// after hearing from the leader).
    func isLeaseValid(_ state: RaftLeaderState) -> Bool {
        guard config.checkQuorum, let drift = config.leaseClockDriftBoundTicks,
            state.transferTarget == nil, let start = state.leaseStartTick
        else { return false }
        return ticksTotal < start + UInt64(config.electionTimeoutTicksMin - drift)
    }

    /// Sends a heartbeat round for the reads without one (all reads accepted since the last
    /// ready share it).
    mutating func confirmReadsWithNewRound(state: inout RaftLeaderState) {
        guard state.pendingReads.contains(where: { $0.index != nil && $0.round == nil }) else {
            return
        }
        let round = state.heartbeatRound + 1
        for offset in state.pendingReads.indices
        where state.pendingReads[offset].index != nil && state.pendingReads[offset].round == nil {
            state.pendingReads[offset].round = round
        }
        broadcastHeartbeat(&state)
    }

    /// After the first commit of the term, reads held for it get their index and a round.
    mutating func releaseReadsAwaitingCommit(state: inout RaftLeaderState) {
        guard log.term(at: log.committed) == term,
            state.pendingReads.contains(where: { $0.index == nil })
        else { return }
        for offset in state.pendingReads.indices where state.pendingReads[offset].index == nil {
            state.pendingReads[offset].index = log.committed
        }
        readRoundPending = true
    }

    /// Answers the reads whose round a quorum of voting members acknowledged, and renews the
    /// lease from the newest such round.
    mutating func confirmReads(state: inout RaftLeaderState) {
        let voting = membership.votingMembers
        guard !voting.isEmpty else { return }
        let acknowledged = voting.map { member in
            member == id
                ? state.heartbeatRound : (state.progress[member]?.heartbeatRoundAcknowledged ?? 0)
        }.sorted(by: >)
        let confirmedRound = acknowledged[membership.quorum - 1]
        if let send = state.heartbeatRoundSends.last(where: { $0.round <= confirmedRound }) {
            state.leaseStartTick = max(state.leaseStartTick ?? 0, send.tick)
            state.heartbeatRoundSends.removeAll { $0.round < send.round }
        }
        var remaining: [RaftPendingRead] = []
        for read in state.pendingReads {
            if let round = read.round, let index = read.index, round <= confirmedRound {
                answerRead(requestID: read.requestID, requester: read.requester, index: index)
            } else {
                remaining.append(read)
            }
        }
        state.pendingReads = remaining
    }

    mutating func answerRead(requestID: UInt64, requester: NodeID, index: LogIndex) {
        if requester == id {
            outboundReadStates.append(RaftReadState(requestID: requestID, index: index))
        } else {
            send(
                to: requester, term: term,
                body: .readIndexResponse(requestID: requestID, index: index))
        }
    }
}
