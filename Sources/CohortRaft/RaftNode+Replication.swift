import CohortCore

extension RaftNode {
    /// Proposes application data. Only the leader accepts; other nodes return the leader they
    /// know so the driver can forward. Entries go out in batches when the driver next calls
    /// ``ready()``.
    public mutating func propose(_ data: [UInt8]) -> RaftProposeResult {
        guard case .leader(var state) = role else { return .notLeader(leader: leader) }
        if state.transferTarget != nil { return .rejected(.leadershipTransferInProgress) }
        if data.count > config.entryBytesMax { return .rejected(.entryTooLarge) }
        if log.lastIndex.rawValue - log.committed.rawValue >= UInt64(config.uncommittedEntriesMax) {
            return .rejected(.uncommittedEntriesLimitReached)
        }
        let index = appendAsLeader(.normal(data), state: &state)
        storeLeaderState(state)
        return .appended(index: index, term: term)
    }

    /// Appends an entry of the current term to the leader's log; membership entries take
    /// effect at once.
    @discardableResult
    mutating func appendAsLeader(_ kind: RaftEntryKind, state: inout RaftLeaderState) -> LogIndex {
        let entry = RaftEntry(index: log.lastIndex.next, term: term, kind: kind)
        log.append([entry])
        if case .membership(let newMembership) = kind {
            adoptMembership(newMembership, at: entry.index, state: &state)
        }
        appendBroadcastPending = true
        return entry.index
    }

    /// Sends AppendEntries to `peer` if flow control allows. With `sendIfEmpty`, a request
    /// without entries still goes (to carry the commit index or to probe).
    mutating func sendAppend(to peer: NodeID, sendIfEmpty: Bool, state: inout RaftLeaderState) {
        guard var progress = state.progress[peer] else { return }
        if progress.isPaused(inflightMessagesMax: config.inflightMessagesMax) { return }
        let previousIndex = progress.nextIndex.previous
        guard let previousTerm = log.term(at: previousIndex) else {
            // The entries this follower needs were compacted: send the snapshot instead.
            startSnapshotTransfer(to: peer, state: &state)
            return
        }
        var entries = log.entries(
            from: progress.nextIndex, through: log.lastIndex, countMax: config.entriesPerMessageMax,
            bytesMax: config.bytesPerMessageMax)
        if entries.isEmpty && !sendIfEmpty { return }
        if membership.witnesses.contains(peer) {
            entries = entries.map(\.withoutData)
        }
        let request = RaftAppendEntriesRequest(
            previousLogIndex: previousIndex, previousLogTerm: previousTerm, entries: entries,
            leaderCommit: log.committed)
        switch progress.state {
        case .replicate:
            if let last = entries.last {
                progress.nextIndex = last.index.next
                progress.inflightLastIndexes.append(last.index)
            }
        case .probe:
            progress.probeSent = true
        case .snapshot:
            break
        }
        state.progress[peer] = progress
        send(to: peer, term: term, body: .appendEntriesRequest(request))
    }

    /// Sends pending entries (and, when the commit index moved, the new commit) to every
    /// follower. Called when the driver takes a ready, so proposals made between two readies
    /// travel in one batch.
    mutating func flushAppends() {
        guard appendBroadcastPending || commitBroadcastPending else { return }
        let includeEmpty = commitBroadcastPending
        appendBroadcastPending = false
        commitBroadcastPending = false
        withLeaderState { node, state in
            for peer in state.progress.keys.sorted() {
                node.sendAppend(to: peer, sendIfEmpty: includeEmpty, state: &state)
                // Stream further batches while flow control allows.
                while let progress = state.progress[peer], progress.state == .replicate,
                    progress.nextIndex <= node.log.lastIndex,
                    !progress.isPaused(inflightMessagesMax: node.config.inflightMessagesMax)
                {
                    node.sendAppend(to: peer, sendIfEmpty: false, state: &state)
                }
            }
        }
    }

    mutating func handleAppendEntries(
        from sender: NodeID, request: RaftAppendEntriesRequest, replyTerm: Term
    ) {
        guard request.isWellFormed(term: replyTerm) else {
            // Malformed input from the network is dropped, never trusted and never a crash.
            return
        }
        if request.previousLogIndex < log.committed {
            // Everything through the commit index already matches the leader's log.
            send(
                to: sender, term: replyTerm,
                body: .appendEntriesResponse(.accepted(matchIndex: log.committed)))
            return
        }
        guard log.matches(index: request.previousLogIndex, term: request.previousLogTerm) else {
            let hint = log.conflictHint(
                index: request.previousLogIndex, term: request.previousLogTerm)
            send(
                to: sender, term: replyTerm,
                body: .appendEntriesResponse(
                    .rejected(
                        previousLogIndex: request.previousLogIndex, hintIndex: hint.index,
                        hintTerm: hint.term)))
            return
        }
        // Raft §5.3: delete a conflicting suffix, then append what is new.
        var firstNew: Int? = nil
        for (offset, entry) in request.entries.enumerated() {
            if log.term(at: entry.index) != entry.term {
                firstNew = offset
                break
            }
        }
        if let firstNew {
            let conflictIndex = request.entries[firstNew].index
            if conflictIndex <= log.lastIndex {
                precondition(
                    conflictIndex > log.committed || !config.faults.isEmpty,
                    "\(id): would truncate committed entry \(conflictIndex) (commit \(log.committed))"
                )
                log.truncate(from: conflictIndex)
                if membershipIndex >= conflictIndex {
                    membership = log.membership(at: log.lastIndex)
                    membershipIndex = log.membershipIndex(at: log.lastIndex)
                }
            }
            let newEntries = Array(request.entries[firstNew...])
            log.append(newEntries)
            for entry in newEntries {
                if case .membership(let newMembership) = entry.kind {
                    membership = newMembership
                    membershipIndex = entry.index
                }
            }
        }
        let lastNewIndex = request.previousLogIndex + UInt64(request.entries.count)
        commit(through: min(request.leaderCommit, lastNewIndex))
        send(
            to: sender, term: replyTerm,
            body: .appendEntriesResponse(.accepted(matchIndex: lastNewIndex)))
    }

    /// Raises the commit index; never lowers it.
    mutating func commit(through index: LogIndex) {
        guard index > log.committed else { return }
        precondition(
            index <= log.lastIndex, "\(id): commit \(index) beyond last index \(log.lastIndex)")
        log.committed = index
    }

    mutating func handleAppendEntriesResponse(
        from peer: NodeID, response: RaftAppendEntriesResponse, state: inout RaftLeaderState
    ) {
        guard var progress = state.progress[peer] else { return }
        progress.recentlyActive = true
        switch response {
        case .accepted(let matchIndex):
            guard matchIndex <= log.lastIndex else { return }
            let grew = progress.update(matchedThrough: matchIndex)
            if grew, case .probe = progress.state { progress.becomeReplicate() }
            if case .snapshot(let transfer) = progress.state,
                progress.matchIndex >= transfer.metadata.index
            {
                progress.becomeProbe()
            }
            state.progress[peer] = progress
            if grew && maybeCommit(state: &state) {
                commitBroadcastPending = true
            }
            sendAppend(to: peer, sendIfEmpty: false, state: &state)
            if state.transferTarget == peer && progress.matchIndex == log.lastIndex {
                send(to: peer, term: term, body: .timeoutNow)
            }
            if grew { maybePromoteLearners(&state) }
        case .rejected(let rejectedIndex, let hintIndex, let hintTerm):
            var probeIndex = hintIndex
            if hintTerm > .zero {
                probeIndex = log.conflictHint(index: hintIndex, term: hintTerm).index
            }
            if progress.decrease(rejectedIndex: rejectedIndex, probeIndex: probeIndex) {
                if case .replicate = progress.state { progress.becomeProbe() }
                state.progress[peer] = progress
                sendAppend(to: peer, sendIfEmpty: true, state: &state)
            } else {
                state.progress[peer] = progress
            }
        }
    }

    /// Moves the commit index to the highest index held durably by the required voters whose
    /// entry is of the current term (Raft §5.4.2). Returns whether it moved.
    mutating func maybeCommit(state: inout RaftLeaderState) -> Bool {
        let voting = membership.votingMembers
        guard !voting.isEmpty else { return false }
        let matches = voting.map { member in
            member == id ? log.stable : (state.progress[member]?.matchIndex ?? .zero)
        }.sorted(by: >)
        let candidate: LogIndex
        switch config.commitMode {
        case .majority: candidate = matches[membership.quorum - 1]
        case .all: candidate = matches[matches.count - 1]
        }
        guard candidate > log.committed else { return false }
        guard
            log.term(at: candidate) == term || config.faults.contains(.commitPreviousTermByCounting)
        else { return false }
        commit(through: candidate)
        releaseReadsAwaitingCommit(state: &state)
        maybePromoteLearners(&state)
        return true
    }

    mutating func broadcastHeartbeat(_ state: inout RaftLeaderState) {
        state.heartbeatRound += 1
        if state.transferTarget == nil && config.leaseClockDriftBoundTicks != nil {
            state.heartbeatRoundSends.append(
                RaftHeartbeatRoundSend(round: state.heartbeatRound, tick: ticksTotal))
            if state.heartbeatRoundSends.count > config.heartbeatRoundsTrackedMax {
                state.heartbeatRoundSends.removeFirst()
            }
        }
        for peer in state.progress.keys.sorted() {
            let match = state.progress[peer]?.matchIndex ?? .zero
            send(
                to: peer, term: term,
                body: .heartbeatRequest(
                    leaderCommit: min(match, log.committed), round: state.heartbeatRound))
        }
        // The leader acknowledges its own round; a group of one confirms at once.
        confirmReads(state: &state)
    }

    mutating func handleHeartbeat(
        from sender: NodeID, leaderCommit: LogIndex, round: UInt64, replyTerm: Term
    ) {
        // The leader sends at most our match index, which our log holds durably.
        commit(through: min(leaderCommit, log.lastIndex))
        send(to: sender, term: replyTerm, body: .heartbeatResponse(round: round))
    }

    mutating func handleHeartbeatResponse(
        from peer: NodeID, round: UInt64, state: inout RaftLeaderState
    ) {
        guard var progress = state.progress[peer] else { return }
        progress.recentlyActive = true
        progress.heartbeatRoundAcknowledged = max(progress.heartbeatRoundAcknowledged, round)
        // A heartbeat answer shows the follower is reachable: resume probing, and free a slot
        // when appends may have been lost in the replicate state.
        progress.probeSent = false
        if case .replicate = progress.state,
            progress.inflightLastIndexes.count >= config.inflightMessagesMax
        {
            progress.inflightLastIndexes.removeFirst()
        }
        state.progress[peer] = progress
        if progress.matchIndex < log.lastIndex {
            sendAppend(to: peer, sendIfEmpty: true, state: &state)
        }
        confirmReads(state: &state)
    }
}
