import CohortCore
import CohortNode
import CohortRaft
import CohortReplication

extension ReplicationDriver {
    /// Asks when a read with `consistency` may run here. `token` is the session's token: the
    /// read waits until this node has applied it (read-your-writes, monotonic reads).
    /// `completion` runs on the raft loop. Any thread.
    public func submitRead(
        consistency: ReadConsistency, token: UInt64,
        completion: @escaping @Sendable (ReadGate) -> Void
    ) {
        let accepted = execute { [self] in
            guard !isStopped else { return completion(.refused(Self.shuttingDown)) }
            let deadline = WallClock.nowMillis() + UInt64(configuration.readTimeoutMillis)
            handleRead(
                consistency: consistency, token: LogIndex(token), deadlineMillis: deadline,
                completion: completion)
        }
        if !accepted { completion(.refused(Self.groupClosed)) }
    }

    func handleRead(
        consistency: ReadConsistency, token: LogIndex, deadlineMillis: UInt64,
        completion: @escaping @Sendable (ReadGate) -> Void
    ) {
        // A witness keeps the log's metadata but applies no data: it has nothing to read.
        if node.membership.witnesses.contains(nodeID) {
            return completion(
                .refused(
                    .error("ERR this node is a witness and holds no data; read from another node")))
        }
        switch consistency {
        case .any:
            completion(.proceed(appliedIndex: appliedIndex.rawValue))
        case .session:
            waitUntilApplied(token, deadlineMillis: deadlineMillis, completion)
        case .boundedStaleness(let millis):
            if node.isLeader || WallClock.nowMillis() - lastCaughtUpMillis <= millis {
                waitUntilApplied(token, deadlineMillis: deadlineMillis, completion)
            } else {
                readIndex(token: token, deadlineMillis: deadlineMillis, completion)
            }
        case .linearizable:
            readIndex(token: token, deadlineMillis: deadlineMillis, completion)
        }
    }

    /// ReadIndex through the leader (Raft §6.4): the read may run once this node has applied
    /// the leader's commit index as of a moment when it was confirmed leader.
    func readIndex(
        token: LogIndex, deadlineMillis: UInt64,
        _ completion: @escaping @Sendable (ReadGate) -> Void
    ) {
        let id = nextRequestID
        nextRequestID += 1
        switch node.readIndex(requestID: id) {
        case .accepted, .forwarded:
            readIndexRequests[id] = ReadIndexRequest(
                token: token, deadlineMillis: deadlineMillis, completion: completion)
            schedulePump()
        case .notLeader:
            leaderless.append(
                LeaderlessRequest(
                    deadlineMillis: deadlineMillis,
                    retry: { [self] in
                        readIndex(token: token, deadlineMillis: deadlineMillis, completion)
                    },
                    fail: {
                        completion(.refused(.error("CLUSTERDOWN no leader to confirm the read")))
                    }
                ))
        case .rejected(let rejection):
            completion(.refused(.error("TRYAGAIN the read was refused (\(rejection))")))
        }
    }

    func readIndexAnswered(_ state: RaftReadState) {
        guard let request = readIndexRequests.removeValue(forKey: state.requestID) else { return }
        waitUntilApplied(
            max(state.index, request.token), deadlineMillis: request.deadlineMillis,
            request.completion)
    }

    func waitUntilApplied(
        _ index: LogIndex, deadlineMillis: UInt64,
        _ completion: @escaping @Sendable (ReadGate) -> Void
    ) {
        if appliedIndex >= index {
            completion(.proceed(appliedIndex: appliedIndex.rawValue))
        } else {
            appliedWaiters.append(
                AppliedWaiter(index: index, deadlineMillis: deadlineMillis, completion: completion))
        }
    }

    func releaseAppliedWaiters() {
        guard !appliedWaiters.isEmpty else { return }
        let applied = appliedIndex
        appliedWaiters.removeAll { waiter in
            guard waiter.index <= applied else { return false }
            waiter.completion(.proceed(appliedIndex: applied.rawValue))
            return true
        }
    }

    /// Times out what waited too long.
    func expireDeadlines(nowMillis: UInt64) {
        let unknown = Self.uncertain
        for (index, pending) in pendingWrites where pending.deadlineMillis <= nowMillis {
            pendingWrites[index] = nil
            if pending.committed {
                // An `all`-mode write that committed in its own term is applied and survives
                // any failover; only the promise that every voter holds it was not kept. Say
                // so, and hand back its index so the session can read it.
                pending.completion(Self.notReplicated, index.rawValue)
            } else {
                pending.completion(unknown, 0)
            }
        }
        for (id, request) in forwardedRequests where request.deadlineMillis <= nowMillis {
            forwardedRequests[id] = nil
            request.completion(unknown, 0)
        }
        let readTimeout = RESPValue.error("TRYAGAIN the read timed out waiting for the leader")
        for (id, request) in readIndexRequests where request.deadlineMillis <= nowMillis {
            readIndexRequests[id] = nil
            request.completion(.refused(readTimeout))
        }
        appliedWaiters.removeAll { waiter in
            guard waiter.deadlineMillis <= nowMillis else { return false }
            waiter.completion(
                .refused(.error("TRYAGAIN this node has not caught up with the session's token")))
            return true
        }
        leaderless.removeAll { request in
            guard request.deadlineMillis <= nowMillis else { return false }
            request.fail()
            return true
        }
        answerReplicaWaits(nowMillis: nowMillis)
    }
}
