import CohortCore

/// One node's part of a leaderless (Dynamo-style) keyspace, as a pure state machine
/// (DESIGN.md §3): it coordinates client writes and reads over the key's N replicas and
/// answers after W or R of them, serves as a replica for other coordinators, repairs stale
/// replicas on reads, and runs anti-entropy with the other replicas of its partitions.
///
/// Inputs: ``submitWrite(_:key:value:context:now:)``, ``submitRead(_:key:now:)``,
/// ``receive(_:from:now:)``, ``diskCompleted(_:now:)`` and ``tick(now:)``. Outputs: the
/// ``LeaderlessAction``s ``drain()`` returns, in order. No clock, socket, file or random.
///
/// Durability: a replica answers a replicate, a read or an exchange only with states it has
/// made durable, and a coordinator sends a new write to the other replicas only once its own
/// copy is durable. So a write's dot, once anyone else has seen it, survives a crash of the
/// replica that made it, and that replica can never hand the same dot to another write.
public struct LeaderlessGroup: Sendable {
    public let nodeID: NodeID
    public let ring: LeaderlessRing
    public let configuration: LeaderlessConfiguration
    public internal(set) var statistics = LeaderlessStatistics()
    /// How long after acknowledgement writes coordinated here reached every home replica.
    public internal(set) var staleness = LeaderlessStaleness()

    /// Every key's latest state here, durable or on its way to the disk.
    var states: [[UInt8]: SiblingSet]
    /// Every key's state as last made durable (change it with ``setDurable(_:_:)``).
    var durable: [[UInt8]: SiblingSet] = [:]
    /// The digest of each durable state (``MerkleTree`` contributions).
    var digests: [[UInt8]: UInt64] = [:]
    /// The Merkle tree of each partition this node holds keys of.
    var trees: [Int: MerkleTree] = [:]
    /// The keys of each (partition, leaf), at `partition * MerkleTree.leafCount + leaf`.
    var leafKeys: [Int: Set<[UInt8]>] = [:]
    /// How many keys each partition holds here.
    var partitionKeyCounts: [Int: Int] = [:]
    /// Hints this node keeps for other replicas (sloppy quorum), by home replica: the latest,
    /// durable or on its way to the disk.
    var hints: [NodeID: [[UInt8]: SiblingSet]] = [:]
    /// The hints as last made durable.
    var durableHints: [NodeID: [[UInt8]: SiblingSet]] = [:]
    var nextHandoffMillis: UInt64 = 0
    var clock = HybridLogicalClock()
    var actions: [LeaderlessAction] = []
    var nextDiskOperation: UInt64 = 1
    var nextRequest: UInt64 = 1
    /// What to do when a disk operation completes.
    var diskWaiters: [UInt64: DiskWaiter] = [:]
    var writes: [UInt64: PendingWrite] = [:]
    var reads: [UInt64: PendingRead] = [:]
    /// Client writes this node forwarded to a replica: internal id to client request.
    var forwarded: [UInt64: (request: RequestID, deadline: UInt64)] = [:]
    var nextAntiEntropyMillis: UInt64 = 0
    var antiEntropyTurn = 0
    /// This node's anti-entropy exchange in progress, if any.
    var ownExchange: OwnExchange?
    /// The last dot counter used, and the highest reserved durably (``newDot(at:)``).
    var dotCounter: UInt64 = 0
    var dotsReserved: UInt64 = 0
    /// Durable keys whose state is only tombstones (candidates for collection).
    var tombstoneKeys: Set<[UInt8]> = []
    /// Per tombstone-only key: its digest, and the other home replicas that hold it equally.
    var tombstoneConfirmations: [[UInt8]: (digest: UInt64, by: Set<NodeID>)] = [:]
    /// The clocks of keys whose tombstones were collected here, most recent last (bounded):
    /// an older copy of such a key arriving late stays superseded.
    var graves: [[UInt8]: VersionVector] = [:]
    var graveOrder: [[UInt8]] = []
    var graveOrderStart = 0

    /// A node that holds `durableStates`, `durableHints` (by home replica) and the dot
    /// reservation `durableDotFloor` on its disk (empty and 0 for a new node).
    public init(
        nodeID: NodeID, ring: LeaderlessRing, configuration: LeaderlessConfiguration,
        durableStates: [[UInt8]: SiblingSet] = [:],
        durableHints: [NodeID: [[UInt8]: SiblingSet]] = [:], durableDotFloor: UInt64 = 0
    ) {
        precondition(configuration.problem == nil, configuration.problem ?? "")
        precondition(ring.members.contains(nodeID), "\(nodeID) is not on the ring")
        self.nodeID = nodeID
        self.ring = ring
        self.configuration = configuration
        self.states = durableStates
        for (key, state) in durableStates { setDurable(key, state) }
        self.hints = durableHints.filter { !$0.value.isEmpty }
        self.durableHints = hints
        // Every counter up to the reservation may have been used before the restart.
        self.dotCounter = durableDotFloor
        self.dotsReserved = durableDotFloor
    }

    /// Takes the actions produced since the last drain.
    public mutating func drain() -> [LeaderlessAction] {
        defer { actions.removeAll(keepingCapacity: true) }
        return actions
    }

    /// This node's durable state of `key` (empty when it holds none).
    public func durableState(of key: [UInt8]) -> SiblingSet {
        durable[key] ?? .empty
    }

    /// How many keys this node holds a state of.
    public var keyCount: Int { durable.count }

    /// The keys this node holds a state of, sorted.
    public var keys: [[UInt8]] {
        durable.keys.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Client requests still waiting for replicas.
    public var pendingRequests: Int { writes.count + reads.count + forwarded.count }

    // MARK: Disk

    /// The host made the state of `operation` durable.
    public mutating func diskCompleted(_ operation: DiskOperationID, now: GroupTime) {
        guard let waiter = diskWaiters.removeValue(forKey: operation.rawValue) else { return }
        // Operations complete in order and each carries the whole state at its time, so the
        // latest completed one is the durable state.
        switch waiter.write {
        case .state(let key, let state):
            setDurable(key, state)
        case .hint(let home, let key, let state):
            durableHints[home, default: [:]][key] = state
            if durableHints[home]?.isEmpty == true { durableHints[home] = nil }
        case .dotFloor:
            break
        }
        run(waiter.then, now: now)
    }

    /// Records `state` as `key`'s durable state (empty: the key is gone), and keeps its
    /// partition's tree, leaf index and tombstone candidates up to date.
    mutating func setDurable(_ key: [UInt8], _ state: SiblingSet) {
        let partition = ring.partition(of: key)
        let leafIndex = partition * MerkleTree.leafCount + MerkleTree.leaf(of: key)
        if state.isEmpty {
            guard let old = digests.removeValue(forKey: key) else { return }
            durable[key] = nil
            tombstoneKeys.remove(key)
            tombstoneConfirmations[key] = nil
            trees[partition, default: MerkleTree()].update(key: key, from: old, to: nil)
            partitionKeyCounts[partition, default: 1] -= 1
            leafKeys[leafIndex]?.remove(key)
            return
        }
        let digest = Self.digest(state)
        let old = digests.updateValue(digest, forKey: key)
        durable[key] = state
        if state.isDeleted && !state.siblings.isEmpty {
            tombstoneKeys.insert(key)
        } else {
            tombstoneKeys.remove(key)
        }
        guard old != digest else { return }
        tombstoneConfirmations[key] = nil
        trees[partition, default: MerkleTree()].update(key: key, from: old, to: digest)
        if old == nil {
            partitionKeyCounts[partition, default: 0] += 1
            leafKeys[leafIndex, default: []].insert(key)
        }
    }

    static func digest(_ state: SiblingSet) -> UInt64 {
        FNV1a.hash(state.encoded)
    }

    /// Merges `incoming` into `key`'s state; persists it when it changed, and runs `then`
    /// once durable (at once when nothing changed and the state is durable already).
    mutating func mergeAndPersist(
        _ key: [UInt8], _ incoming: SiblingSet, then: DiskWaiter.Then, now: GroupTime
    ) -> Bool {
        let current = states[key] ?? .empty
        if states[key] == nil, let grave = graves[key] {
            // The key's tombstone was collected here: what the grave's clock covers stays
            // superseded; anything newer is a new history of the key.
            let revived = SiblingSet.grave(grave).merged(with: incoming)
            if revived.siblings.isEmpty {
                run(then, now: now)
                return false
            }
            graves[key] = nil
            states[key] = revived
            persist(key, revived, then: then)
            return true
        }
        var merged = current.merged(with: incoming)
        if configuration.faults.contains(.lwwWithoutSiblings) {
            var dropped: [Sibling] = []
            merged = merged.keepingNewest(dropped: &dropped)
        }
        let changed = merged != current
        if changed || durable[key] != merged {
            states[key] = merged
            persist(key, merged, then: then)
        } else {
            run(then, now: now)
        }
        return changed
    }

    mutating func persist(_ key: [UInt8], _ state: SiblingSet, then: DiskWaiter.Then) {
        let operation = nextDiskOperation
        nextDiskOperation += 1
        diskWaiters[operation] = DiskWaiter(write: .state(key, state), then: then)
        actions.append(.persist(DiskOperationID(operation), key: key, state: state))
    }

    /// Persists this node's hint of `key` for `home` (nil: removed).
    mutating func persistHint(
        _ key: [UInt8], for home: NodeID, _ state: SiblingSet?, then: DiskWaiter.Then
    ) {
        let operation = nextDiskOperation
        nextDiskOperation += 1
        hints[home, default: [:]][key] = state
        if hints[home]?.isEmpty == true { hints[home] = nil }
        diskWaiters[operation] = DiskWaiter(write: .hint(home, key, state), then: then)
        actions.append(.persistHint(DiskOperationID(operation), home: home, key: key, state: state))
    }

    private mutating func run(_ then: DiskWaiter.Then, now: GroupTime) {
        switch then {
        case .nothing: break
        case .coordinate(let id): coordinatedWriteDurable(id, now: now)
        case .acknowledge(let peer, let request):
            send(.replicated(request: request), to: peer, now: now)
        case .confirmHandoff(let peer, let key, let digest):
            send(.handedOff(key: key, digest: digest), to: peer, now: now)
        }
    }

    // MARK: Messages

    /// A peer's message arrived (or this node's own, for a local replica).
    public mutating func receive(_ message: LeaderlessMessage, from peer: NodeID, now: GroupTime) {
        switch message {
        case .replicate(let request, let key, let state):
            _ = mergeAndPersist(key, state, then: .acknowledge(peer, request), now: now)
        case .replicated(let request):
            replicaAcknowledged(request.rawValue, by: peer, now: now)
        case .replicateHint(let request, let key, let state, let home):
            keepHint(request, key, state, for: home, from: peer, now: now)
        case .handoff(let key, let state):
            receiveHandoff(key, state, from: peer, now: now)
        case .handedOff(let key, let digest):
            handoffConfirmed(key, digest, by: peer, now: now)
        case .read(let request, let key):
            send(.readReply(request: request, state: durableState(of: key)), to: peer, now: now)
        case .readReply(let request, let state):
            readReplied(request.rawValue, state: state, by: peer, now: now)
        case .repair(let key, let state):
            _ = mergeAndPersist(key, state, then: .nothing, now: now)
        case .forwardWrite(let request, let key, let value, let context, let quorum):
            coordinateWrite(
                key: key, value: value, context: context, origin: .peer(peer, request),
                quorum: quorum == 0 ? nil : Int(quorum), now: now)
        case .forwardedWriteDone(let request, let result):
            guard let entry = forwarded.removeValue(forKey: request.rawValue) else { return }
            finishWrite(entry.request, result)
        case .tombstoneQuery(let entries):
            answerTombstoneQuery(entries, from: peer, now: now)
        case .tombstonesHeld(let entries):
            tombstonesConfirmed(entries, by: peer, now: now)
        case .treeDiffering(let partitions):
            receiveTreeDiffering(partitions, from: peer, now: now)
        case .treeRoots(let partitions, let roots):
            receiveTreeRoots(partitions, roots, from: peer, now: now)
        case .treeInterior(let partition, let hashes):
            receiveTreeInterior(partition: Int(partition), hashes, from: peer, now: now)
        case .treeLeaves(let partition, let interior, let hashes):
            receiveTreeLeaves(partition: Int(partition), interior, hashes, from: peer, now: now)
        case .digests(let partition, let leaves, let entries):
            receiveDigests(partition: Int(partition), leaves, entries, from: peer, now: now)
        case .exchange(let partition, let states, let wanted):
            receiveExchange(partition: Int(partition), states, wanted: wanted, from: peer, now: now)
        }
    }

    /// Sends `message`; one to this node itself is handled at once, as a local replica.
    mutating func send(_ message: LeaderlessMessage, to peer: NodeID, now: GroupTime) {
        if peer == nodeID {
            receive(message, from: nodeID, now: now)
        } else {
            actions.append(.send(message, to: peer))
        }
    }

    // MARK: Time

    /// Time passed: fails requests past their deadline and starts anti-entropy when due.
    public mutating func tick(now: GroupTime) {
        let nowMillis = now.monotonicMillis
        for id in writes.keys.sorted() where writes[id]!.deadline <= nowMillis {
            let write = writes.removeValue(forKey: id)!
            if write.acknowledgedAtMillis != nil {
                // Acknowledged, but some home replica never confirmed it in time.
                staleness.notFullyReplicated += 1
                continue
            }
            let reason =
                "NOQUORUM \(write.acknowledged.count) of \(write.needed) replicas acknowledged "
                + "the write in \(configuration.requestTimeoutMillis) ms (N \(ring.replicas))"
            answerWrite(write.origin, .failed(reason), now: now)
        }
        for id in reads.keys.sorted() where reads[id]!.deadline <= nowMillis {
            let read = reads.removeValue(forKey: id)!
            guard !read.answered else { continue }
            statistics.readsFailed += 1
            let reason =
                "NOQUORUM \(read.replies.count) of \(read.needed) replicas answered "
                + "the read in \(configuration.requestTimeoutMillis) ms (N \(ring.replicas))"
            actions.append(.readDone(read.request, .failed(reason)))
        }
        for id in forwarded.keys.sorted() where forwarded[id]!.deadline <= nowMillis {
            let entry = forwarded.removeValue(forKey: id)!
            finishWrite(
                entry.request,
                .failed(
                    "NOQUORUM the replica coordinating the write did not answer in "
                        + "\(configuration.requestTimeoutMillis) ms"))
        }
        if configuration.sloppy { substituteFallbacks(now: now) }
        if !durableHints.isEmpty, nowMillis >= nextHandoffMillis {
            nextHandoffMillis = nowMillis + configuration.handoffIntervalMillis
            offerHints(now: now)
        }
        if configuration.antiEntropyIntervalMillis > 0, nowMillis >= nextAntiEntropyMillis {
            nextAntiEntropyMillis = nowMillis + configuration.antiEntropyIntervalMillis
            startAntiEntropy(now: now)
            queryTombstones(now: now)
        }
    }

    /// A client's quorum override clamped to 1...N, or nil for the keyspace's.
    func clampedQuorum(_ quorum: Int?) -> Int? {
        quorum.map { min(max($0, 1), ring.replicas) }
    }

    func deadline(_ now: GroupTime) -> UInt64 {
        now.deadline(after: configuration.requestTimeoutMillis)
    }

    mutating func newRequestID() -> UInt64 {
        defer { nextRequest += 1 }
        return nextRequest
    }
}

/// What a leaderless group does once a disk operation completes.
struct DiskWaiter: Sendable {
    /// What the operation wrote.
    enum Write: Sendable {
        /// A key's state (empty: removed).
        case state([UInt8], SiblingSet)
        /// A hint for a home replica (nil: removed).
        case hint(NodeID, [UInt8], SiblingSet?)
        /// The dot counters' reservation.
        case dotFloor(UInt64)
    }

    var write: Write
    var then: Then

    enum Then: Sendable {
        /// A repair: nothing more.
        case nothing
        /// The coordinator's own copy of write `id` is durable: send it to the others.
        case coordinate(UInt64)
        /// Answer `peer`'s replicate request.
        case acknowledge(NodeID, RequestID)
        /// Tell the fallback `peer` that its hint of the key with this digest is durable here.
        case confirmHandoff(NodeID, [UInt8], UInt64)
    }
}
