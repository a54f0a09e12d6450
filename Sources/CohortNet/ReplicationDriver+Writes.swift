import CohortCore
import CohortNode
import CohortRaft
import CohortReplication
import CohortStorage

extension ReplicationDriver {
    /// Runs a write command for a client of this node. `completion` gets the reply and the log
    /// index that carries the write (0 when none), on the raft loop. Any thread.
    public func submitWrite(
        _ arguments: [[UInt8]], token: UInt64, ackMode: AckMode,
        completion: @escaping @Sendable (RESPValue, UInt64) -> Void
    ) {
        // Clients of the default keyspace are served on its raft loop: no hop then. The
        // completion never runs inline here (replies come from a later pump), so the caller
        // is not re-entered.
        if loop.inEventLoop {
            return startWrite(arguments, token: token, ackMode: ackMode, completion: completion)
        }
        let accepted = execute { [self] in
            startWrite(arguments, token: token, ackMode: ackMode, completion: completion)
        }
        if !accepted { completion(Self.groupClosed, 0) }
    }

    private func startWrite(
        _ arguments: [[UInt8]], token: UInt64, ackMode: AckMode,
        completion: @escaping @Sendable (RESPValue, UInt64) -> Void
    ) {
        guard !isStopped else { return completion(Self.shuttingDown, 0) }
        let deadline = WallClock.nowMillis() + UInt64(configuration.writeTimeoutMillis)
        handleWrite(
            arguments, token: LogIndex(token), ackMode: ackMode, deadlineMillis: deadline,
            mayForward: true, completion: completion)
    }

    /// Leader: evaluate and propose. Follower: forward to the leader. No leader: park.
    func handleWrite(
        _ arguments: [[UInt8]], token: LogIndex, ackMode: AckMode, deadlineMillis: UInt64,
        mayForward: Bool, completion: @escaping @Sendable (RESPValue, UInt64) -> Void
    ) {
        if let refusal = ClusterLimits(configuration).refusal(forArguments: arguments) {
            return completion(refusal, 0)
        }
        if node.isLeader {
            if Self.isNodeCommand(arguments) || Self.isKeyspaceCommand(arguments) {
                guard groupID == 0 else {
                    return completion(
                        .error(
                            "ERR cluster membership and keyspaces belong to the default keyspace"),
                        0)
                }
                if Self.isNodeCommand(arguments) {
                    handleNodeCommand(
                        arguments, deadlineMillis: deadlineMillis, completion: completion)
                } else {
                    handleKeyspaceCommand(
                        arguments, deadlineMillis: deadlineMillis, completion: completion)
                }
            } else if Self.isWait(arguments) {
                startReplicaWait(arguments, token: token, completion: completion)
            } else {
                propose(arguments, ackMode: ackMode, deadlineMillis: deadlineMillis, completion)
            }
            return
        }
        guard mayForward else {
            // A forwarded request reached a node that is no longer the leader: it did nothing,
            // so the client may safely retry.
            return completion(.error("TRYAGAIN leadership moved; the write was not applied"), 0)
        }
        if let leader = node.leader, leader != nodeID {
            let id = nextRequestID
            nextRequestID += 1
            forwardedRequests[id] = ForwardedRequest(
                deadlineMillis: deadlineMillis, completion: completion)
            transport.sendForward(
                ForwardMessage.request(
                    id: id, arguments: arguments, token: token.rawValue, ackMode: ackMode
                ).encoded(), to: leader, group: groupID)
            return
        }
        leaderless.append(
            LeaderlessRequest(
                deadlineMillis: min(deadlineMillis, WallClock.nowMillis() + 5_000),
                retry: { [self] in
                    handleWrite(
                        arguments, token: token, ackMode: ackMode, deadlineMillis: deadlineMillis,
                        mayForward: true, completion: completion)
                },
                fail: {
                    completion(.error("CLUSTERDOWN no leader; the write was not applied"), 0)
                }))
    }

    static func isWait(_ arguments: [[UInt8]]) -> Bool {
        arguments.first.map { CommandExecutor.isNamed($0, "WAIT") } ?? false
    }

    /// Evaluates the command against applied state plus the overlay, and proposes its effects.
    func propose(
        _ arguments: [[UInt8]], ackMode: AckMode, deadlineMillis: UInt64,
        _ completion: @escaping @Sendable (RESPValue, UInt64) -> Void
    ) {
        // Every reply, an error or a write that changed nothing included, is computed from the
        // overlay of uncommitted writes and on a node that may already be deposed, so each one
        // waits for an entry of its own (possibly empty) to commit behind what it observed.
        let (reply, writes, flushesAll) = evaluate(arguments)
        let effects =
            writes.count == 1
            ? writes.map { Self.effect(key: $0.key, write: $0.value) }
            : writes.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map {
                Self.effect(key: $0.key, write: $0.value)
            }
        let entry = LogicalEntry(flushesAll: flushesAll, effects: effects)
        switch node.propose(LogicalEntryCodec.encode(entry)) {
        case .appended(let index, let term):
            addToOverlay(entry, at: index)
            if ackMode == .leader { leaderModeIndexes.append(index) }
            pendingWrites[index] = PendingWrite(
                term: term, ackMode: ackMode, reply: reply,
                deadlineMillis: deadlineMillis, completion: completion)
            schedulePump()
        case .notLeader:
            completion(.error("TRYAGAIN leadership moved; the write was not applied"), 0)
        case .rejected(let rejection):
            completion(ClusterLimits(configuration).reply(refusing: rejection), 0)
        }
    }

    /// Runs a write command over the overlay. The speculation (and the reference to the
    /// overlay it holds) is gone when this returns, so the caller mutates the overlay in place
    /// instead of copying it on every write.
    func evaluate(_ arguments: [[UInt8]]) -> (RESPValue, [[UInt8]: KeyWrite], Bool) {
        let speculation = Speculation(
            overlay: overlay, overlayHidesEngine: overlayFlushIndex != nil)
        var session = ClientSession(id: 0, address: "leader", authenticated: true)
        let outcome = executor.execute(
            arguments, session: &session, nowMillis: WallClock.nowMillis(),
            speculation: speculation)
        return (outcome.reply, speculation.writes, speculation.flushesAll)
    }

    /// A follower's forwarded request or the leader's answer.
    func receiveForward(_ payload: [UInt8], from peer: NodeID) {
        guard !isStopped else { return }
        switch ForwardMessage.decode(payload) {
        case .request(let id, let arguments, let token, let ackMode):
            let transport = self.transport!
            let groupID = self.groupID
            let deadline = WallClock.nowMillis() + UInt64(configuration.writeTimeoutMillis)
            handleWrite(
                arguments, token: LogIndex(token), ackMode: ackMode, deadlineMillis: deadline,
                mayForward: false
            ) { reply, index in
                var bytes: [UInt8] = []
                reply.encode(into: &bytes, version: .resp3)
                transport.sendForward(
                    ForwardMessage.response(id: id, reply: bytes, index: index).encoded(),
                    to: peer, group: groupID)
            }
        case .response(let id, let bytes, let index):
            guard let request = forwardedRequests.removeValue(forKey: id) else { return }
            request.completion(Self.decodeReply(bytes), index)
        case .proxied, .proxyResponse:
            // The node handles these (see KeyspaceProxy); they never reach a group.
            break
        case nil:
            logger.warning("dropping a malformed forward frame", metadata: ["peer": "\(peer)"])
        }
    }

    /// A reply another node encoded as RESP3.
    static func decodeReply(_ bytes: [UInt8]) -> RESPValue {
        var parser = RESPValueParser()
        if case .value(let value, _) = bytes.withUnsafeBytes({ parser.parse($0) }) {
            return value
        }
        return .error("ERR malformed reply from another node")
    }

    /// Answers `leader`-mode writes whose entries are now durable here.
    func acknowledgeLeaderDurable() {
        guard node.isLeader, !leaderModeIndexes.isEmpty else { return }
        let stable = node.stableIndex
        var answered = 0
        for index in leaderModeIndexes {
            guard index <= stable else { break }
            answered += 1
            // A write whose entry was replaced is failed when its index applies.
            guard let pending = pendingWrites[index], node.term(at: index) == pending.term
            else { continue }
            pendingWrites[index] = nil
            pending.completion(pending.reply, index.rawValue)
        }
        leaderModeIndexes.removeFirst(answered)
    }

    /// Answers `all`-mode writes that every voter has.
    func acknowledgeAllReplicated() {
        guard node.isLeader, !committedAllModeIndexes.isEmpty else { return }
        let voters = node.membership.voters.filter { $0 != nodeID }
        committedAllModeIndexes.removeAll { index in
            guard let pending = pendingWrites[index] else { return true }
            let everyone = voters.allSatisfy {
                (node.leaderProgress(of: $0)?.matchIndex ?? .zero) >= index
            }
            guard everyone else { return false }
            pendingWrites[index] = nil
            pending.completion(pending.reply, index.rawValue)
            return true
        }
    }

    /// WAIT numreplicas timeout, on the leader: how many followers hold the session's writes.
    func startReplicaWait(
        _ arguments: [[UInt8]], token: LogIndex,
        completion: @escaping @Sendable (RESPValue, UInt64) -> Void
    ) {
        guard arguments.count == 3, let replicas = Int64(redisBytes: arguments[1]),
            let timeout = Int64(redisBytes: arguments[2])
        else {
            return completion(.error("ERR value is not an integer or out of range"), 0)
        }
        guard timeout >= 0 else { return completion(.error("ERR timeout is negative"), 0) }
        // Redis: a timeout of 0 blocks forever; bounded here by the write timeout.
        let millis = timeout == 0 ? UInt64(configuration.writeTimeoutMillis) : UInt64(timeout)
        replicaWaits.append(
            ReplicaWait(
                index: token, replicas: Int(clamping: replicas),
                deadlineMillis: WallClock.nowMillis() + millis,
                completion: completion))
        answerReplicaWaits(nowMillis: WallClock.nowMillis())
    }

    func replicasHolding(_ index: LogIndex) -> Int {
        node.membership.allMembers.filter {
            $0 != nodeID && (node.leaderProgress(of: $0)?.matchIndex ?? .zero) >= index
        }.count
    }

    func answerReplicaWaits(nowMillis: UInt64) {
        guard !replicaWaits.isEmpty else { return }
        replicaWaits.removeAll { wait in
            let count = node.isLeader ? replicasHolding(wait.index) : 0
            guard count >= wait.replicas || nowMillis >= wait.deadlineMillis else { return false }
            wait.completion(.integer(Int64(count)), 0)
            return true
        }
    }
}
