import CohortCore
import CohortRaft

extension LeaderGroup {
    /// Where a write's answer goes: a client of this node's host, or a follower that forwarded
    /// the write (by the id it gave it).
    enum ReplyTarget: Sendable {
        case client(RequestID)
        case peer(NodeID, forwardID: UInt64)
    }

    /// Records a forwarded write from `peer`; false when it was already taken (a duplicate
    /// delivery).
    mutating func firstDelivery(from peer: NodeID, id: UInt64) -> Bool {
        if configuration.faults.contains(.forwardRetryDuplicates) { return true }
        return forwardsSeen.firstDelivery(from: peer, id: id)
    }

    /// A proposed write waiting for its acknowledgement condition.
    struct PendingWrite: Sendable {
        var term: Term
        var ackMode: AckMode
        var reply: RESPValue
        var deadlineMillis: UInt64
        var target: ReplyTarget
        /// Committed with our term; waiting for every voter (`all` mode).
        var committed = false
    }

    /// A read waiting until this node has applied `index`.
    struct AppliedWaiter: Sendable {
        var index: LogIndex
        var deadlineMillis: UInt64
        var request: RequestID
    }

    /// A ReadIndex request in flight.
    struct ReadIndexRequest: Sendable {
        var token: LogIndex
        var deadlineMillis: UInt64
        var request: RequestID
    }

    /// A write forwarded to the leader, waiting for its answer.
    struct ForwardedWrite: Sendable {
        var deadlineMillis: UInt64
        var target: ReplyTarget
    }

    /// A WAIT command on the leader.
    struct ReplicaWait: Sendable {
        var index: LogIndex
        var replicas: Int
        var deadlineMillis: UInt64
        var target: ReplyTarget
    }

    /// A request parked until a leader is known.
    struct ParkedRequest: Sendable {
        enum Kind: Sendable {
            case write(
                arguments: [[UInt8]], token: LogIndex, ackMode: AckMode, deadlineMillis: UInt64,
                target: ReplyTarget)
            case readIndex(token: LogIndex, deadlineMillis: UInt64, request: RequestID)
        }
        var kind: Kind
        var parkedUntilMillis: UInt64
    }

    /// A ready whose disk write the host is running.
    struct PendingReady: Sendable {
        var id: DiskOperationID
        var ready: RaftReady
        var sendsEarly: Bool
        var appliesEarly: Bool
        var defersSync: Bool
        var syncs: Bool
    }

    /// Answers a write's target with `reply`.
    mutating func answer(_ target: ReplyTarget, _ reply: RESPValue, token: LogIndex) {
        switch target {
        case .client(let request):
            actions.append(.reply(request, reply, token: token))
        case .peer(let peer, let forwardID):
            var bytes: [UInt8] = []
            reply.encodeForPeers(into: &bytes)
            actions.append(
                .forward(
                    ForwardMessage.response(id: forwardID, reply: bytes, index: token.rawValue)
                        .encoded(), to: peer))
        }
    }

    /// Fails every waiting request with `reply`.
    mutating func failEverything(_ reply: RESPValue) {
        let writes = pendingWrites.sorted { $0.key < $1.key }
        pendingWrites.removeAll()
        for (_, pending) in writes { answer(pending.target, reply, token: .zero) }
        leaderModeIndexes.removeAll()
        committedAllModeIndexes.removeAll()
        for waiter in appliedWaiters { actions.append(.readGate(waiter.request, .refused(reply))) }
        appliedWaiters.removeAll()
        for (_, read) in readIndexRequests.sorted(by: { $0.key < $1.key }) {
            actions.append(.readGate(read.request, .refused(reply)))
        }
        readIndexRequests.removeAll()
        for (_, forwarded) in forwardedWrites.sorted(by: { $0.key < $1.key }) {
            answer(forwarded.target, reply, token: .zero)
        }
        forwardedWrites.removeAll()
        for wait in replicaWaits { answer(wait.target, reply, token: .zero) }
        replicaWaits.removeAll()
        let parkedNow = parked
        parked.removeAll()
        for request in parkedNow { failParked(request, reply) }
    }

    mutating func failParked(_ request: ParkedRequest, _ reply: RESPValue) {
        switch request.kind {
        case .write(_, _, _, _, let target): answer(target, reply, token: .zero)
        case .readIndex(_, _, let id): actions.append(.readGate(id, .refused(reply)))
        }
    }

    /// Times out what waited too long (monotonic deadlines).
    mutating func expireDeadlines() {
        let nowMillis = now.monotonicMillis
        // Only the expired ones are sorted (their order reaches the output); the scan itself
        // stays linear, as it runs every tick over up to `pendingWritesMax` writes.
        let expiredWrites = pendingWrites.filter { $0.value.deadlineMillis <= nowMillis }
        for (index, pending) in expiredWrites.sorted(by: { $0.key < $1.key }) {
            pendingWrites[index] = nil
            if pending.committed {
                // An `all`-mode write that committed in its own term is applied and survives
                // any failover; only the promise that every voter holds it was not kept. Say
                // so, and hand back its index so the session can read it.
                answer(pending.target, Self.notReplicated, token: index)
            } else {
                answer(pending.target, Self.uncertain, token: .zero)
            }
        }
        let expiredForwards = forwardedWrites.filter { $0.value.deadlineMillis <= nowMillis }
        for (id, forwarded) in expiredForwards.sorted(by: { $0.key < $1.key }) {
            forwardedWrites[id] = nil
            answer(forwarded.target, Self.uncertain, token: .zero)
        }
        let readTimeout = RESPValue.error("TRYAGAIN the read timed out waiting for the leader")
        let expiredReads = readIndexRequests.filter { $0.value.deadlineMillis <= nowMillis }
        for (id, read) in expiredReads.sorted(by: { $0.key < $1.key }) {
            readIndexRequests[id] = nil
            actions.append(.readGate(read.request, .refused(readTimeout)))
        }
        var kept: [AppliedWaiter] = []
        for waiter in appliedWaiters {
            if waiter.deadlineMillis <= nowMillis {
                actions.append(
                    .readGate(
                        waiter.request,
                        .refused(
                            .error(
                                "TRYAGAIN this node has not caught up with the session's token"))))
            } else {
                kept.append(waiter)
            }
        }
        appliedWaiters = kept
        var stillParked: [ParkedRequest] = []
        for request in parked {
            if request.parkedUntilMillis <= nowMillis {
                failParked(request, Self.noLeaderReply(for: request.kind))
            } else {
                stillParked.append(request)
            }
        }
        parked = stillParked
        answerReplicaWaits()
    }

    static func noLeaderReply(for kind: ParkedRequest.Kind) -> RESPValue {
        switch kind {
        case .write: .error("CLUSTERDOWN no leader; the write was not applied")
        case .readIndex: .error("CLUSTERDOWN no leader to confirm the read")
        }
    }

    /// Parks a request until a leader is known, or refuses it when the queue is full.
    mutating func park(_ kind: ParkedRequest.Kind, deadlineMillis: UInt64) {
        guard parked.count < configuration.limits.parkedRequestsMax else {
            let full = Self.queueFull(
                parked.count, "requests already wait for a leader",
                limit: configuration.limits.parkedRequestsMax)
            return failParked(ParkedRequest(kind: kind, parkedUntilMillis: 0), full)
        }
        let until = min(deadlineMillis, now.deadline(after: configuration.limits.parkedMillisMax))
        parked.append(ParkedRequest(kind: kind, parkedUntilMillis: until))
    }

    /// A leader is known: parked requests try again.
    mutating func retryParked() {
        let retrying = parked
        parked.removeAll()
        for request in retrying {
            switch request.kind {
            case .write(let arguments, let token, let ackMode, let deadline, let target):
                handleWrite(
                    arguments, token: token, ackMode: ackMode, deadlineMillis: deadline,
                    mayForward: true, target: target)
            case .readIndex(let token, let deadline, let id):
                readIndex(token: token, deadlineMillis: deadline, request: id)
            }
        }
    }
}
