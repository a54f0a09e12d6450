import CohortCore
import CohortRaft

extension LeaderGroup {
    /// A client of this node asks when a read with `consistency` may run here. `token` is the
    /// session's: the read waits until this node has applied it (read-your-writes, monotonic
    /// reads). Answered with ``LeaderGroupAction/readGate(_:_:)`` for `request`.
    public mutating func submitRead(
        _ request: RequestID, consistency: ReadConsistency, token: SessionToken,
        now time: GroupTime
    ) {
        guard !isStopped else {
            return actions.append(.readGate(request, .refused(Self.shuttingDown)))
        }
        advanceTime(time)
        let deadline = now.deadline(after: configuration.readTimeoutMillis)
        // A witness keeps the log's metadata but applies no data: it has nothing to read.
        if isWitness {
            return actions.append(
                .readGate(
                    request,
                    .refused(
                        .error(
                            "ERR this node is a witness and holds no data; read from another node"
                        ))))
        }
        let token = token.logIndex
        switch consistency {
        case .any:
            actions.append(.readGate(request, .proceed(appliedIndex: appliedIndex.rawValue)))
        case .session:
            if configuration.faults.contains(.sessionReadBeforeApplied) {
                // Broken variant: the token is ignored.
                return actions.append(
                    .readGate(request, .proceed(appliedIndex: appliedIndex.rawValue)))
            }
            waitUntilApplied(token, deadlineMillis: deadline, request: request)
        case .boundedStaleness(let millis):
            if isFresh(withinMillis: millis) {
                waitUntilApplied(token, deadlineMillis: deadline, request: request)
            } else {
                // Cannot show it is within the bound: ask the leader, which either confirms
                // (then the read is linearizable) or, unreachable, refuses in the end.
                readIndex(token: token, deadlineMillis: deadline, request: request)
            }
        case .linearizable:
            readIndex(token: token, deadlineMillis: deadline, request: request)
        }
    }

    /// Whether what this node has applied was, within the last `millis`, everything the
    /// group had committed.
    ///
    /// A follower measures from the arrival of its leader's AppendEntries whose commit index
    /// (at an entry of the leader's term) it had applied; the one-way delay is not counted. A
    /// follower cut off from its leader stops being fresh `millis` after the last one, however
    /// much it has applied. A leader is fresh once it has committed an entry of its term and a
    /// majority of voters answered it within `millis`: no other leader can have committed
    /// anything before then.
    public func isFresh(withinMillis millis: UInt64) -> Bool {
        if raft.isLeader {
            guard raft.term(at: raft.commitIndex) == raft.term else { return false }
            let voting = raft.membership.votingMembers
            var heard = voting.filter { $0 != nodeID }.map { followerHeardMillis[$0] ?? 0 }
            if voting.contains(nodeID) { heard.append(now.monotonicMillis) }
            heard.sort(by: >)
            let quorum = raft.membership.quorum
            guard heard.count >= quorum else { return false }
            let asOf = heard[quorum - 1]
            return asOf > 0 && now.millis(since: asOf) <= millis
        }
        if configuration.faults.contains(.staleReadUnbounded) {
            // Broken variant: "caught up" against the local commit index only.
            return appliedIndex >= raft.commitIndex
        }
        guard let fresh = freshAsOfMillis else { return false }
        return now.millis(since: fresh) <= millis
    }

    /// Follower: a message from the current leader arrived carrying `commit`.
    mutating func recordLeaderContact(commit: LogIndex) {
        if let last = leaderContacts.last, last.commit == commit {
            // A later message with the same commit index: it moves the proof forward.
            leaderContacts[leaderContacts.count - 1].millis = now.monotonicMillis
        } else {
            if leaderContacts.count >= configuration.limits.leaderContactsMax {
                leaderContacts.removeFirst()
            }
            leaderContacts.append((now.monotonicMillis, commit))
        }
        coverLeaderContacts()
    }

    /// Moves `freshAsOfMillis` to the latest leader contact that what is applied covers.
    mutating func coverLeaderContacts() {
        var covered = 0
        for contact in leaderContacts {
            guard contact.commit <= appliedIndex else { break }
            freshAsOfMillis = max(freshAsOfMillis ?? 0, contact.millis)
            covered += 1
        }
        if covered > 0 { leaderContacts.removeFirst(covered) }
    }

    /// ReadIndex through the leader (Raft §6.4): the read may run once this node has applied
    /// the leader's commit index as of a moment when it was confirmed leader.
    mutating func readIndex(token: LogIndex, deadlineMillis: UInt64, request: RequestID) {
        guard waitingReads < configuration.limits.waitingReadsMax else {
            return refuseBusyRead(request)
        }
        let id = nextID()
        switch raft.readIndex(requestID: id) {
        case .accepted, .forwarded:
            readIndexRequests[id] = ReadIndexRequest(
                token: token, deadlineMillis: deadlineMillis, request: request)
        case .notLeader:
            park(
                .readIndex(token: token, deadlineMillis: deadlineMillis, request: request),
                deadlineMillis: deadlineMillis)
        case .rejected(let rejection):
            actions.append(
                .readGate(request, .refused(.error("TRYAGAIN the read was refused (\(rejection))")))
            )
        }
    }

    var waitingReads: Int { readIndexRequests.count + appliedWaiters.count }

    mutating func refuseBusyRead(_ request: RequestID) {
        actions.append(
            .readGate(
                request,
                .refused(
                    Self.queueFull(
                        waitingReads, "reads already wait on this node",
                        limit: configuration.limits.waitingReadsMax))))
    }

    mutating func readIndexAnswered(_ state: RaftReadState) {
        guard let read = readIndexRequests.removeValue(forKey: state.requestID) else { return }
        waitUntilApplied(
            max(state.index, read.token), deadlineMillis: read.deadlineMillis,
            request: read.request)
    }

    mutating func waitUntilApplied(_ index: LogIndex, deadlineMillis: UInt64, request: RequestID) {
        if appliedIndex >= index {
            actions.append(.readGate(request, .proceed(appliedIndex: appliedIndex.rawValue)))
        } else if waitingReads >= configuration.limits.waitingReadsMax {
            refuseBusyRead(request)
        } else {
            appliedWaiters.append(
                AppliedWaiter(index: index, deadlineMillis: deadlineMillis, request: request))
        }
    }

    mutating func releaseAppliedWaiters() {
        guard !appliedWaiters.isEmpty else { return }
        let applied = appliedIndex
        var kept: [AppliedWaiter] = []
        for waiter in appliedWaiters {
            if waiter.index <= applied {
                actions.append(.readGate(waiter.request, .proceed(appliedIndex: applied.rawValue)))
            } else {
                kept.append(waiter)
            }
        }
        appliedWaiters = kept
    }
}
