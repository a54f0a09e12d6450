import CohortCore

extension RaftNode {
    /// Hands leadership to another voter (Raft thesis §3.10): the leader stops accepting
    /// proposals, brings the target up to date, then tells it to start an election at once.
    /// The transfer is abandoned after an election timeout.
    public mutating func transferLeadership(to target: NodeID) -> RaftRequestResult {
        guard case .leader(var state) = role else { return .notLeader(leader: leader) }
        guard target != id, membership.voters.contains(target), state.progress[target] != nil else {
            return .rejected(.invalidTransferTarget)
        }
        state.transferTarget = target
        state.transferElapsedTicks = 0
        // Lease reads stop: the target may be elected before this leader hears of it.
        state.leaseStartTick = nil
        state.heartbeatRoundSends = []
        if state.progress[target]?.matchIndex == log.lastIndex {
            send(to: target, term: term, body: .timeoutNow)
        } else {
            sendAppend(to: target, sendIfEmpty: true, state: &state)
        }
        storeLeaderState(state)
        return .accepted
    }
}
