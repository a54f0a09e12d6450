import CohortCore

extension RaftNode {
    /// Advances time by one tick: followers and candidates count toward an election timeout;
    /// the leader sends heartbeats, checks its quorum and times out a leadership transfer.
    public mutating func tick() {
        ticksTotal += 1
        if case .leader(var state) = role {
            tickLeader(&state)
            storeLeaderState(state)
            stepDownIfRemoved()
        } else {
            electionElapsedTicks += 1
            if electionElapsedTicks >= randomizedElectionTimeoutTicks {
                electionElapsedTicks = 0
                if isPromotable {
                    startElection(isLeadershipTransfer: false)
                } else if case .follower(let known) = role, known != nil {
                    // A node that cannot lead (a witness, a learner) must still stop vouching
                    // for a leader it no longer hears from: while it names one, check-quorum's
                    // lease makes it refuse every vote, and a witness whose vote is needed
                    // would block the election for good.
                    role = .follower(leader: nil)
                    resetElectionTimer()
                }
            }
        }
    }

    /// Starts an election now, as if the election timeout had fired (with a pre-vote round
    /// when configured). Does nothing on a leader or on a node that cannot lead.
    public mutating func campaign() {
        guard !isLeader, isPromotable else { return }
        startElection(isLeadershipTransfer: false)
    }

    /// Whether this node refuses votes because a leader may still hold a lease on it.
    func isInLease() -> Bool {
        guard config.checkQuorum else { return false }
        if leader != nil && electionElapsedTicks < config.electionTimeoutTicksMin { return true }
        // A restarted node forgot when it last heard from a leader; with lease reads on, it
        // must assume a lease may still run and wait one election timeout before voting.
        return config.leaseClockDriftBoundTicks != nil
            && ticksTotal < UInt64(config.electionTimeoutTicksMin)
    }

    mutating func resetElectionTimer() {
        electionElapsedTicks = 0
        randomizedElectionTimeoutTicks = random.value(
            in: config.electionTimeoutTicksMin...config.electionTimeoutTicksMax)
    }

    mutating func startElection(isLeadershipTransfer: Bool) {
        campaign(
            isPreVote: config.preVote && !isLeadershipTransfer,
            isLeadershipTransfer: isLeadershipTransfer)
    }

    mutating func campaign(isPreVote: Bool, isLeadershipTransfer: Bool) {
        let electionTerm: Term
        let tally = RaftVoteTally(granted: [id])
        if isPreVote {
            role = .preCandidate(tally)
            electionTerm = term.next
        } else {
            term = term.next
            votedFor = id
            role = .candidate(tally)
            electionTerm = term
        }
        resetElectionTimer()
        heartbeatElapsedTicks = 0
        switch outcome(of: tally) {
        case .won:
            if isPreVote {
                campaign(isPreVote: false, isLeadershipTransfer: isLeadershipTransfer)
            } else {
                becomeLeader()
            }
            return
        case .lost, .pending:
            break
        }
        let request = RaftVoteRequest(
            isPreVote: isPreVote, lastLogIndex: log.lastIndex, lastLogTerm: log.lastTerm,
            isLeadershipTransfer: isLeadershipTransfer)
        for peer in membership.votingMembers where peer != id {
            send(to: peer, term: electionTerm, body: .voteRequest(request))
        }
    }

    /// Whether the tally decides the election.
    func outcome(of tally: RaftVoteTally) -> RaftElectionOutcome {
        let voting = membership.votingMembers
        let granted = voting.filter { tally.granted.contains($0) }.count
        let rejected = voting.filter { tally.rejected.contains($0) }.count
        if granted >= membership.quorum { return .won }
        if rejected > voting.count - membership.quorum { return .lost }
        return .pending
    }

    mutating func becomeFollower(term newTerm: Term, leader newLeader: NodeID?) {
        precondition(newTerm >= term, "\(id): term would go back from \(term) to \(newTerm)")
        if newTerm > term {
            term = newTerm
            votedFor = nil
        }
        role = .follower(leader: newLeader)
        resetElectionTimer()
        heartbeatElapsedTicks = 0
    }

    mutating func becomeLeader() {
        if case .candidate = role {
        } else {
            preconditionFailure("\(id): becoming leader from \(role.kind) in \(term)")
        }
        var progress: [NodeID: RaftProgress] = [:]
        for member in membership.allMembers where member != id {
            progress[member] = RaftProgress(nextIndex: log.lastIndex.next)
        }
        var state = RaftLeaderState(progress: progress)
        role = .leader(state)
        electionElapsedTicks = 0
        heartbeatElapsedTicks = 0
        // Raft §5.4.2 and §8: an entry of the new term lets earlier entries commit.
        appendAsLeader(.noop, state: &state)
        storeLeaderState(state)
    }

    mutating func tickLeader(_ state: inout RaftLeaderState) {
        heartbeatElapsedTicks += 1
        electionElapsedTicks += 1
        if electionElapsedTicks >= config.electionTimeoutTicksMin {
            electionElapsedTicks = 0
            if config.checkQuorum && !quorumWasRecentlyActive(&state) {
                // Thesis §6.2: a leader cut off from a quorum steps down so clients go elsewhere.
                becomeFollower(term: term, leader: nil)
                return
            }
        }
        if state.transferTarget != nil {
            state.transferElapsedTicks += 1
            if state.transferElapsedTicks >= config.electionTimeoutTicksMin {
                state.transferTarget = nil
                state.transferElapsedTicks = 0
            }
        }
        if heartbeatElapsedTicks >= config.heartbeatIntervalTicks {
            heartbeatElapsedTicks = 0
            broadcastHeartbeat(&state)
            for peer in state.progress.keys.sorted() {
                if case .snapshot = state.progress[peer]?.state {
                    sendSnapshotChunk(to: peer, state: &state)
                }
            }
            maybePromoteLearners(&state)
        }
    }

    /// Counts the voting members heard from since the last check, and resets the marks.
    mutating func quorumWasRecentlyActive(_ state: inout RaftLeaderState) -> Bool {
        var active = 0
        for member in membership.votingMembers {
            if member == id || state.progress[member]?.recentlyActive == true { active += 1 }
        }
        for peer in state.progress.keys.sorted() {
            state.progress[peer]?.recentlyActive = false
        }
        return active >= membership.quorum
    }

    mutating func handleVoteRequest(
        from candidate: NodeID, messageTerm: Term, request: RaftVoteRequest
    ) {
        let canVote =
            votedFor == candidate || (votedFor == nil && leader == nil)
            || (request.isPreVote && messageTerm > term)
            || config.faults.contains(.grantMultipleVotesPerTerm)
        if canVote && log.isUpToDate(lastIndex: request.lastLogIndex, lastTerm: request.lastLogTerm)
        {
            send(
                to: candidate, term: messageTerm,
                body: .voteResponse(isPreVote: request.isPreVote, granted: true))
            if !request.isPreVote {
                electionElapsedTicks = 0
                votedFor = candidate
            }
        } else {
            send(
                to: candidate, term: term,
                body: .voteResponse(isPreVote: request.isPreVote, granted: false))
        }
    }

    mutating func handleVoteResponse(
        from voter: NodeID, messageTerm: Term, isPreVote: Bool, granted: Bool
    ) {
        switch role {
        case .preCandidate(var tally) where isPreVote:
            if granted && messageTerm == term.next {
                tally.granted.insert(voter)
            } else if !granted {
                tally.rejected.insert(voter)
            } else {
                return
            }
            role = .preCandidate(tally)
            switch outcome(of: tally) {
            case .won: campaign(isPreVote: false, isLeadershipTransfer: false)
            case .lost: becomeFollower(term: term, leader: nil)
            case .pending: break
            }
        case .candidate(var tally) where !isPreVote && messageTerm == term:
            if granted {
                tally.granted.insert(voter)
            } else {
                tally.rejected.insert(voter)
            }
            role = .candidate(tally)
            switch outcome(of: tally) {
            case .won: becomeLeader()
            case .lost: becomeFollower(term: term, leader: nil)
            case .pending: break
            }
        default:
            break
        }
    }

    /// Writes leader state back, unless the node stepped down meanwhile.
    mutating func storeLeaderState(_ state: RaftLeaderState) {
        if case .leader = role { role = .leader(state) }
    }

    mutating func send(to peer: NodeID, term messageTerm: Term, body: RaftMessageBody) {
        outboundMessages.append(RaftMessage(from: id, to: peer, term: messageTerm, body: body))
    }
}
