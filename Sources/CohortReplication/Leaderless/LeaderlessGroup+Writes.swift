import CohortCore

/// A write this node coordinates, waiting for W durable copies.
struct PendingWrite: Sendable {
    var key: [UInt8]
    var dot: Dot
    var state: SiblingSet
    var origin: WriteOrigin
    var acknowledged: Set<NodeID> = []
    var needed: Int
    var deadline: UInt64
    var startMillis: UInt64
    /// Home replicas a fallback node stands in for (sloppy quorum).
    var substituted: Set<NodeID> = []
    /// Fallback nodes the write was sent to.
    var fallbacks: [NodeID] = []
    /// When the client got its acknowledgement; the write is then kept until every home
    /// replica holds it (or its deadline), to measure how long that took.
    var acknowledgedAtMillis: UInt64?
    /// When each home replica's acknowledgement arrived.
    var homeAcknowledgedAtMillis: [NodeID: UInt64] = [:]
}

/// Who asked for a write: a client of this node, or a node that forwarded its client's.
enum WriteOrigin: Sendable {
    case client(RequestID)
    case peer(NodeID, RequestID)
}

extension LeaderlessGroup {
    /// A client's write of `key` (a nil value deletes: a tombstone), superseding what
    /// `context` covers (`.empty` for a blind write, which supersedes nothing). Answered by a
    /// ``LeaderlessAction/writeDone(_:_:)`` once W replicas hold it durably, or with an error
    /// at the deadline. A node outside the key's preference list forwards the write to a
    /// replica, which coordinates it: only a replica may make the write's dot. `writeQuorum`
    /// overrides the keyspace's W for this write (COHORT W; clamped to 1...N).
    public mutating func submitWrite(
        _ request: RequestID, key: [UInt8], value: [UInt8]?, context: VersionVector,
        writeQuorum: Int? = nil, now: GroupTime
    ) {
        let preference = ring.preferenceList(of: key)
        let quorum = clampedQuorum(writeQuorum)
        if preference.contains(nodeID) {
            coordinateWrite(
                key: key, value: value, context: context, origin: .client(request),
                quorum: quorum, now: now)
            return
        }
        let id = newRequestID()
        forwarded[id] = (request, deadline(now))
        // Spread forwarded writes over the replicas (and let a retry reach another one).
        let target = preference[Int(request.rawValue % UInt64(preference.count))]
        send(
            .forwardWrite(
                request: RequestID(id), key: key, value: value, context: context,
                quorum: UInt8(quorum ?? 0)), to: target, now: now)
    }

    /// Makes the write's dot on this replica's state of `key` and persists it; the copies to
    /// the other replicas leave once this one is durable (``coordinatedWriteDurable(_:now:)``).
    mutating func coordinateWrite(
        key: [UInt8], value: [UInt8]?, context: VersionVector, origin: WriteOrigin,
        quorum: Int? = nil, now: GroupTime
    ) {
        // A key written again after its tombstone was collected here continues from the
        // grave's clock, so copies of its old history stay superseded.
        var state = states[key] ?? graves[key].map(SiblingSet.grave) ?? .empty
        let supersedes = configuration.faults.contains(.contextIgnored) ? .empty : context
        let surviving = state.siblings.filter { !supersedes.covers($0.dot) }.count
        if surviving + 1 > configuration.siblingsMax {
            statistics.siblingRefusals += 1
            answerWrite(
                origin,
                .failed(
                    "SIBLINGS the key holds \(surviving) concurrent values (the limit is "
                        + "\(configuration.siblingsMax)); read them with COHORT SIBLINGS and "
                        + "write their merge with its context"), now: now)
            return
        }
        if surviving + 1 > configuration.siblingsMax / 2 { statistics.siblingWarnings += 1 }
        let stamp = clock.now(physicalMillis: now.wallMillis)
        let dot = newDot(at: state.nextCounter(for: nodeID, context: supersedes))
        state.write(value, context: supersedes, dot: dot, stamp: stamp)
        graves[key] = nil
        if configuration.faults.contains(.lwwWithoutSiblings) {
            var dropped: [Sibling] = []
            state = state.keepingNewest(dropped: &dropped)
        }
        states[key] = state
        let id = newRequestID()
        var needed = clampedQuorum(quorum) ?? configuration.writeQuorum
        if configuration.faults.contains(.quorumOneShort) { needed = max(1, needed - 1) }
        writes[id] = PendingWrite(
            key: key, dot: dot, state: state, origin: origin, needed: needed,
            deadline: deadline(now), startMillis: now.monotonicMillis)
        persist(key, state, then: .coordinate(id))
    }

    /// The next dot of this node, at least `floor`. Counters above the durable reservation
    /// are reserved first, in blocks: the reservation reaches the disk before the write that
    /// uses it (disk operations complete in order), so a dot never leaves this node unless
    /// a restart would continue above it.
    mutating func newDot(at floor: UInt64) -> Dot {
        dotCounter = max(dotCounter + 1, floor)
        if dotCounter > dotsReserved {
            dotsReserved = dotCounter + Self.dotReservationBlock
            let operation = nextDiskOperation
            nextDiskOperation += 1
            diskWaiters[operation] = DiskWaiter(write: .dotFloor(dotsReserved), then: .nothing)
            actions.append(.persistDotFloor(DiskOperationID(operation), dotsReserved))
        }
        return Dot(replica: nodeID, counter: dotCounter)
    }

    /// Dots reserved per durable write of the high-water mark.
    public static let dotReservationBlock: UInt64 = 1_024

    /// The coordinator's copy of write `id` is durable: it counts, and the others get it.
    mutating func coordinatedWriteDurable(_ id: UInt64, now: GroupTime) {
        guard let write = writes[id] else { return }
        for replica in ring.preferenceList(of: write.key) where replica != nodeID {
            send(
                .replicate(request: RequestID(id), key: write.key, state: write.state),
                to: replica, now: now)
        }
        replicaAcknowledged(id, by: nodeID, now: now)
    }

    /// `replica` holds write `id` durably.
    mutating func replicaAcknowledged(_ id: UInt64, by replica: NodeID, now: GroupTime) {
        guard var write = writes[id] else { return }
        write.acknowledged.insert(replica)
        let homes = ring.preferenceList(of: write.key)
        if homes.contains(replica), write.homeAcknowledgedAtMillis[replica] == nil {
            write.homeAcknowledgedAtMillis[replica] = now.monotonicMillis
        }
        if write.acknowledgedAtMillis == nil, write.acknowledged.count >= write.needed {
            write.acknowledgedAtMillis = now.monotonicMillis
            answerWrite(
                write.origin, .written(dot: write.dot, context: write.state.clock), now: now)
        }
        if let acknowledgedAt = write.acknowledgedAtMillis,
            write.homeAcknowledgedAtMillis.count == homes.count
        {
            writes[id] = nil
            staleness.record(
                acknowledgedAt: acknowledgedAt,
                replicasAt: homes.map { write.homeAcknowledgedAtMillis[$0]! })
        } else {
            writes[id] = write
        }
    }

    mutating func answerWrite(
        _ origin: WriteOrigin, _ result: LeaderlessWriteResult, now: GroupTime
    ) {
        switch origin {
        case .client(let request):
            finishWrite(request, result)
        case .peer(let peer, let request):
            send(.forwardedWriteDone(request: request, result: result), to: peer, now: now)
        }
    }

    mutating func finishWrite(_ request: RequestID, _ result: LeaderlessWriteResult) {
        switch result {
        case .written: statistics.writesAcknowledged += 1
        case .failed: statistics.writesFailed += 1
        }
        actions.append(.writeDone(request, result))
    }
}
