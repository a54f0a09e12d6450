import CohortCore

extension RaftNode {
    /// Proposes one single-server membership change (Raft thesis §4.1). The leader accepts it
    /// only when the previous change is committed and an entry of its own term is committed
    /// (the fix to single-server changes in Ongaro's 2015 raft-dev post). The change takes
    /// effect on each node when appended.
    public mutating func proposeMembershipChange(_ change: RaftMembershipChange)
        -> RaftProposeResult
    {
        guard case .leader(var state) = role else { return .notLeader(leader: leader) }
        let result = proposeMembershipChange(change, state: &state)
        storeLeaderState(state)
        return result
    }

    mutating func proposeMembershipChange(
        _ change: RaftMembershipChange, state: inout RaftLeaderState
    ) -> RaftProposeResult {
        if state.transferTarget != nil { return .rejected(.leadershipTransferInProgress) }
        guard canChangeMembership else { return .rejected(.membershipChangeInProgress) }
        guard let newMembership = membership.applying(change) else {
            return .rejected(.invalidMembershipChange)
        }
        let index = appendAsLeader(.membership(newMembership), state: &state)
        return .appended(index: index, term: term)
    }

    /// Whether a leader may start a membership change now.
    var canChangeMembership: Bool {
        membershipIndex <= log.committed && log.term(at: log.committed) == term
    }

    /// Makes `newMembership` current; on the leader, starts or stops tracking members.
    mutating func adoptMembership(
        _ newMembership: RaftMembership, at index: LogIndex, state: inout RaftLeaderState
    ) {
        membership = newMembership
        membershipIndex = index
        for member in newMembership.allMembers where member != id && state.progress[member] == nil {
            state.progress[member] = RaftProgress(nextIndex: log.lastIndex)
        }
        for peer in state.progress.keys.sorted() where !newMembership.contains(peer) {
            state.progress[peer] = nil
        }
        if let target = state.transferTarget, !newMembership.voters.contains(target) {
            state.transferTarget = nil
        }
    }

    /// Proposes the promotion of a learner awaiting it once its log is close enough to the
    /// leader's (thesis §4.2.1), one change at a time.
    mutating func maybePromoteLearners(_ state: inout RaftLeaderState) {
        guard state.transferTarget == nil, canChangeMembership else { return }
        for learner in membership.learnersAwaitingPromotion {
            guard let progress = state.progress[learner] else { continue }
            let lagEntries =
                log.lastIndex.rawValue - min(progress.matchIndex.rawValue, log.lastIndex.rawValue)
            if lagEntries <= UInt64(config.learnerPromotionLagEntriesMax) {
                _ = proposeMembershipChange(.promoteLearner(learner), state: &state)
                return
            }
        }
    }

    /// A leader whose own removal has committed steps down (thesis §4.2.2).
    mutating func stepDownIfRemoved() {
        guard isLeader, !membership.voters.contains(id), membershipIndex <= log.committed else {
            return
        }
        guard case .leader(var state) = role else { return }
        // Send the commit that completes the removal before stepping down.
        for peer in state.progress.keys.sorted() {
            sendAppend(to: peer, sendIfEmpty: true, state: &state)
        }
        becomeFollower(term: term, leader: nil)
    }
}
