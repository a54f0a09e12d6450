import CohortCore
import CohortRaft

extension LeaderGroup {
    /// A client of this node sends a write command (or WAIT, or a cluster command).
    /// Answered with ``LeaderGroupAction/reply(_:_:token:)`` for `request`.
    public mutating func submitWrite(
        _ request: RequestID, arguments: [[UInt8]], token: SessionToken, ackMode: AckMode,
        now time: GroupTime
    ) {
        guard !isStopped else {
            return actions.append(.reply(request, Self.shuttingDown, token: .zero))
        }
        precondition(
            !batchOutstanding,
            "a write was submitted while the host was still running the group's actions")
        advanceTime(time)
        handleWrite(
            arguments, token: token.logIndex, ackMode: ackMode,
            deadlineMillis: now.deadline(after: configuration.writeTimeoutMillis),
            mayForward: true, target: .client(request))
    }

    /// Leader: evaluate and propose. Follower: forward to the leader. No leader: park.
    mutating func handleWrite(
        _ arguments: [[UInt8]], token: LogIndex, ackMode: AckMode, deadlineMillis: UInt64,
        mayForward: Bool, target: ReplyTarget
    ) {
        if raft.isLeader {
            if Self.isNodeCommand(arguments) || Self.isKeyspaceCommand(arguments) {
                guard configuration.groupID.isDefault else {
                    return answer(
                        target,
                        .error(
                            "ERR cluster membership and keyspaces belong to the default keyspace"),
                        token: .zero)
                }
                if Self.isNodeCommand(arguments) {
                    handleNodeCommand(arguments, deadlineMillis: deadlineMillis, target: target)
                } else {
                    handleKeyspaceCommand(
                        arguments, deadlineMillis: deadlineMillis, target: target)
                }
            } else if Self.isWait(arguments) {
                startReplicaWait(arguments, token: token, target: target)
            } else {
                propose(arguments, ackMode: ackMode, deadlineMillis: deadlineMillis, target)
            }
            return
        }
        guard mayForward else {
            // A forwarded request reached a node that is no longer the leader: this copy did
            // nothing, but another copy may have reached the leader (see `refusedHere(_:)`).
            return answer(target, Self.refusedHere(target), token: .zero)
        }
        if let leader = raft.leader, leader != nodeID {
            guard forwardedWrites.count < configuration.limits.forwardedWritesMax else {
                return answer(
                    target,
                    Self.queueFull(
                        forwardedWrites.count, "writes already wait for the leader",
                        limit: configuration.limits.forwardedWritesMax), token: .zero)
            }
            let id = nextID()
            forwardedWrites[id] = ForwardedWrite(deadlineMillis: deadlineMillis, target: target)
            actions.append(
                .forward(
                    ForwardMessage.request(
                        id: id, arguments: arguments, token: token.rawValue, ackMode: ackMode,
                        term: raft.term.rawValue
                    ).encoded(), to: leader))
            return
        }
        park(
            .write(
                arguments: arguments, token: token, ackMode: ackMode,
                deadlineMillis: deadlineMillis, target: target),
            deadlineMillis: deadlineMillis)
    }

    static func isWait(_ arguments: [[UInt8]]) -> Bool {
        arguments.first.map { CommandWord.matches($0, "WAIT") } ?? false
    }

    /// Evaluates the command against applied state plus the overlay, and proposes its effects.
    mutating func propose(
        _ arguments: [[UInt8]], ackMode: AckMode, deadlineMillis: UInt64, _ target: ReplyTarget
    ) {
        guard pendingWrites.count < configuration.limits.pendingWritesMax else {
            return answer(
                target,
                Self.queueFull(
                    pendingWrites.count, "writes already wait for acknowledgement",
                    limit: configuration.limits.pendingWritesMax), token: .zero)
        }
        // Every reply, an error or a write that changed nothing included, is computed from the
        // overlay of uncommitted writes and on a node that may already be deposed, so each one
        // waits for an entry of its own (possibly empty) to commit behind what it observed.
        let evaluation = evaluator.evaluateWrite(
            arguments, overlay: overlay, overlayHidesEngine: overlayFlushIndex != nil,
            nowMillis: now.wallMillis)
        let writes = evaluation.writes
        let effects =
            writes.count == 1
            ? writes.map { KeyEffect(key: $0.key, write: $0.value) }
            : writes.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map {
                KeyEffect(key: $0.key, write: $0.value)
            }
        let entry = LogicalEntry(flushesAll: evaluation.flushesAll, effects: effects)
        switch raft.propose(LogicalEntryCodec.encode(entry)) {
        case .appended(let index, let term):
            addToOverlay(entry, at: index)
            if ackMode == .leader { leaderModeIndexes.append(index) }
            pendingWrites[index] = PendingWrite(
                term: term, ackMode: ackMode, reply: evaluation.reply,
                deadlineMillis: deadlineMillis, target: target)
        case .notLeader:
            answer(target, Self.refusedHere(target), token: .zero)
        case .rejected(let rejection):
            answer(
                target,
                Self.refusal(of: rejection, entryBytesMax: configuration.raft.entryBytesMax),
                token: .zero)
        }
    }

    /// The answer to a write this node refused because it is not (or no longer) the leader of
    /// the right term. A client's own request was not applied: retrying is safe. A forwarded
    /// one is only this copy of it: the network may have delivered another to the leader,
    /// which applied it (found by the simulator: a duplicate reached a node after a leader
    /// change, its refusal came back first, and the client was told "not applied" of a write
    /// that was), so its outcome is unknown.
    static func refusedHere(_ target: ReplyTarget) -> RESPValue {
        if case .peer = target { return uncertain }
        return leadershipMoved
    }

    /// The reply to a write the Raft core refused: an entry too large can never fit, so it
    /// gets a non-retryable `ERR` naming the limit; any other refusal passes, so `TRYAGAIN`
    /// (nothing was applied).
    public static func refusal(of rejection: RaftRejection, entryBytesMax: Int) -> RESPValue {
        guard rejection == .entryTooLarge else {
            return .error("TRYAGAIN the leader refused the write (\(rejection))")
        }
        return .error(
            "ERR the write's log entry exceeds the cluster's limit of \(entryBytesMax) bytes"
                + " (entryBytesMax, derived from bulk-bytes-max); split it into smaller writes")
    }

    /// A follower's forwarded request, or the leader's answer to ours.
    public mutating func receiveForward(_ payload: [UInt8], from peer: NodeID, now time: GroupTime)
    {
        guard !isStopped else { return }
        advanceTime(time)
        switch ForwardMessage.decode(payload) {
        case .request(let id, let arguments, let token, let ackMode, let term):
            guard firstDelivery(from: peer, id: id) else {
                // Delivered twice: the first delivery is answered; this one is dropped.
                return
            }
            guard
                configuration.faults.contains(.forwardRetryDuplicates)
                    || (raft.isLeader && term == raft.term.rawValue)
            else {
                // Sent to the leader of another term (found by the simulator: a SET the
                // network delayed past a whole-cluster power loss was applied again after later
                // writes, as the new leader had no memory of it). Nothing was applied.
                let target = ReplyTarget.peer(peer, forwardID: id)
                return answer(target, Self.refusedHere(target), token: .zero)
            }
            handleWrite(
                arguments, token: LogIndex(token), ackMode: ackMode,
                deadlineMillis: now.deadline(after: configuration.writeTimeoutMillis),
                mayForward: false, target: .peer(peer, forwardID: id))
        case .response(let id, let bytes, let index):
            guard let forwarded = forwardedWrites.removeValue(forKey: id) else { return }
            answer(forwarded.target, Self.decodeReply(bytes), token: LogIndex(index))
        case .proxied, .proxyResponse:
            // The node handles these (the keyspace proxy); they never reach a group.
            break
        case nil:
            log(.warning, "dropping a malformed forward frame", ["peer": "\(peer)"])
        }
    }

    /// A reply another node encoded (`RESPValue.encodeForPeers`).
    public static func decodeReply(_ bytes: [UInt8]) -> RESPValue {
        var parser = RESPValueParser()
        if case .value(let value, _) = bytes.withUnsafeBytes({ parser.parse($0) }) {
            return value
        }
        return .error("ERR malformed reply from another node")
    }

    /// Answers `leader`-mode writes whose entries are now durable here.
    mutating func acknowledgeLeaderDurable() {
        guard raft.isLeader, !leaderModeIndexes.isEmpty else { return }
        // Broken variant: everything written counts as durable.
        let stable =
            configuration.faults.contains(.leaderAckBeforeDurable)
            ? raft.lastIndex : raft.stableIndex
        var answered = 0
        for index in leaderModeIndexes {
            guard index <= stable else { break }
            answered += 1
            // A write whose entry was replaced is failed when its index applies.
            guard let pending = pendingWrites[index], raft.term(at: index) == pending.term
            else { continue }
            pendingWrites[index] = nil
            answer(pending.target, pending.reply, token: index)
        }
        leaderModeIndexes.removeFirst(answered)
    }

    /// Answers `all`-mode writes that every voter has.
    mutating func acknowledgeAllReplicated() {
        guard raft.isLeader, !committedAllModeIndexes.isEmpty else { return }
        let voters = raft.membership.voters.filter { $0 != nodeID }
        var kept: [LogIndex] = []
        for index in committedAllModeIndexes {
            guard let pending = pendingWrites[index] else { continue }
            let everyone = voters.allSatisfy {
                (raft.leaderProgress(of: $0)?.matchIndex ?? .zero) >= index
            }
            guard everyone else {
                kept.append(index)
                continue
            }
            pendingWrites[index] = nil
            answer(pending.target, pending.reply, token: index)
        }
        committedAllModeIndexes = kept
    }

    /// WAIT numreplicas timeout, on the leader: how many followers hold the session's writes.
    mutating func startReplicaWait(_ arguments: [[UInt8]], token: LogIndex, target: ReplyTarget) {
        guard arguments.count == 3, let replicas = Int64(redisBytes: arguments[1]),
            let timeout = Int64(redisBytes: arguments[2])
        else {
            return answer(
                target, .error("ERR value is not an integer or out of range"), token: .zero)
        }
        guard timeout >= 0 else {
            return answer(target, .error("ERR timeout is negative"), token: .zero)
        }
        guard replicaWaits.count < configuration.limits.replicaWaitsMax else {
            return answer(
                target,
                Self.queueFull(
                    replicaWaits.count, "WAIT commands already wait",
                    limit: configuration.limits.replicaWaitsMax), token: .zero)
        }
        // Redis: a timeout of 0 blocks forever; bounded here by the write timeout.
        let millis = timeout == 0 ? configuration.writeTimeoutMillis : UInt64(timeout)
        replicaWaits.append(
            ReplicaWait(
                index: token, replicas: Int(clamping: replicas),
                deadlineMillis: now.deadline(after: millis), target: target))
        answerReplicaWaits()
    }

    func replicasHolding(_ index: LogIndex) -> Int {
        raft.membership.allMembers.filter {
            $0 != nodeID && (raft.leaderProgress(of: $0)?.matchIndex ?? .zero) >= index
        }.count
    }

    mutating func answerReplicaWaits() {
        guard !replicaWaits.isEmpty else { return }
        var kept: [ReplicaWait] = []
        for wait in replicaWaits {
            let count = raft.isLeader ? replicasHolding(wait.index) : 0
            if count >= wait.replicas || now.monotonicMillis >= wait.deadlineMillis {
                answer(wait.target, .integer(Int64(count)), token: .zero)
            } else {
                kept.append(wait)
            }
        }
        replicaWaits = kept
    }

    /// Records a proposed entry's writes as in flight (read by later writes' evaluation).
    mutating func addToOverlay(_ entry: LogicalEntry, at index: LogIndex) {
        if entry.flushesAll {
            clearOverlay()
            overlayFlushIndex = index
        }
        for effect in entry.effects {
            let (key, write) = effect.keyWrite
            overlay[key] = write
            overlayIndex[key] = index
        }
    }

    mutating func clearOverlay() {
        overlay.removeAll()
        overlayIndex.removeAll()
        overlayFlushIndex = nil
    }
}
