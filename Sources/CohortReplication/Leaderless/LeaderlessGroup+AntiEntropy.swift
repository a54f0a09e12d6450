import CohortCore

/// Anti-entropy between replicas, always on: every interval a node starts an exchange with
/// one other member in turn, comparing the Merkle trees (``MerkleTree``) of every partition
/// the two hold, top down, each step answered by the other side:
///
/// 1. the roots of the shared partitions (``LeaderlessMessage/treeRoots``);
/// 2. for each partition whose roots differ, the interior hashes;
/// 3. the leaf hashes under the interior nodes that differ;
/// 4. the digests and clocks of the keys in the leaves that differ;
/// 5. the keys the initiator lacks or holds older (``LeaderlessMessage/exchange``), whose
///    states the peer sends back.
///
/// An exchange repairs its initiator only (a pull): every node starts one each interval, so
/// each pulls what it lacks, and two peers never send a node the same states at once. The
/// peer first says which partitions differ (``LeaderlessMessage/treeDiffering``); the
/// initiator starts its next exchange only when each of those has finished (or a deadline
/// passed, for a lost message or a peer gone away), so a large repair still arriving is never
/// pulled again from the next peer. Replicas in sync exchange one root per shared partition;
/// the bytes of an exchange grow with the differing keys, not with the data.
extension LeaderlessGroup {
    /// A partition with at most this many keys here skips the tree's levels: its keys'
    /// digests go at once (a digest and clock, about 40 bytes, against 16 hashes a level).
    static let partitionListedKeysMax = 32

    /// How long a node's exchange may go without a message from its peer, in intervals,
    /// before the node starts its next one anyway (a lost message, a peer gone away).
    static let exchangeQuietIntervals: UInt64 = 20

    /// Keeps this node's exchange with `peer` alive: a message of it arrived.
    mutating func touchOwnExchange(_ peer: NodeID, now: GroupTime) {
        guard ownExchange?.peer == peer else { return }
        ownExchange!.deadlineMillis = now.deadline(
            after: configuration.antiEntropyIntervalMillis * Self.exchangeQuietIntervals)
    }

    mutating func startAntiEntropy(now: GroupTime) {
        // One exchange of this node's at a time.
        if let exchange = ownExchange, now.monotonicMillis < exchange.deadlineMillis { return }
        ownExchange = nil
        let peers = ring.members.filter { $0 != nodeID }
        guard !peers.isEmpty else { return }
        let peer = peers[antiEntropyTurn % peers.count]
        antiEntropyTurn += 1
        let shared = sharedPartitions(with: peer)
        guard !shared.isEmpty else { return }
        statistics.antiEntropyExchanges += 1
        ownExchange = OwnExchange(
            peer: peer,
            deadlineMillis: now.deadline(
                after: configuration.antiEntropyIntervalMillis * Self.exchangeQuietIntervals))
        send(
            .treeRoots(
                partitions: shared.map { UInt32($0) },
                roots: shared.map { trees[$0]?.root ?? 0 }),
            to: peer, now: now)
    }

    /// The partitions both this node and `peer` replicate (and exchange), in order.
    func sharedPartitions(with peer: NodeID) -> [Int] {
        (0..<ring.partitionCount).filter { partition in
            exchanges(partition) && ring.preferenceList(ofPartition: partition).contains(peer)
        }
    }

    /// Whether this node takes part in exchanges of `partition`.
    func exchanges(_ partition: Int) -> Bool {
        partition >= 0 && partition < ring.partitionCount
            && ring.preferenceList(ofPartition: partition).contains(nodeID)
            && !(configuration.faults.contains(.antiEntropySkipsPartition) && partition == 0)
    }

    mutating func receiveTreeRoots(
        _ partitions: [UInt32], _ roots: [UInt64], from peer: NodeID, now: GroupTime
    ) {
        guard partitions.count == roots.count else { return }
        let differing = zip(partitions.map(Int.init), roots).filter { partition, root in
            exchanges(partition) && (trees[partition]?.root ?? 0) != root
        }.map(\.0)
        send(.treeDiffering(partitions: differing.map { UInt32($0) }), to: peer, now: now)
        for partition in differing {
            if partitionKeyCounts[partition, default: 0] <= Self.partitionListedKeysMax {
                // Few keys: listing their digests costs less than walking the tree.
                let entries = keys(in: partition, leaves: []).map(keyDigest)
                send(
                    .digests(partition: UInt32(partition), leaves: [], entries: entries), to: peer,
                    now: now)
                continue
            }
            let tree = trees[partition] ?? MerkleTree()
            send(
                .treeInterior(partition: UInt32(partition), hashes: tree.interior), to: peer,
                now: now)
        }
    }

    mutating func receiveTreeInterior(
        partition: Int, _ hashes: [UInt64], from peer: NodeID, now: GroupTime
    ) {
        let tree = trees[partition] ?? MerkleTree()
        guard exchanges(partition), hashes.count == tree.interior.count else { return }
        touchOwnExchange(peer, now: now)
        let differing = tree.interior.indices.filter { tree.interior[$0] != hashes[$0] }
        guard !differing.isEmpty else { return exchangeFinished(partition, with: peer) }
        send(
            .treeLeaves(
                partition: UInt32(partition), interior: differing.map { UInt16($0) },
                hashes: differing.flatMap { tree.leaves(under: $0) }),
            to: peer, now: now)
    }

    mutating func receiveTreeLeaves(
        partition: Int, _ interior: [UInt16], _ hashes: [UInt64], from peer: NodeID,
        now: GroupTime
    ) {
        let tree = trees[partition] ?? MerkleTree()
        guard exchanges(partition), hashes.count == interior.count * MerkleTree.fanOut,
            interior.allSatisfy({ Int($0) < tree.interior.count })
        else { return }
        var leaves: [UInt16] = []
        for (position, node) in interior.enumerated() {
            for offset in 0..<MerkleTree.fanOut {
                let leaf = Int(node) * MerkleTree.fanOut + offset
                if tree.leaves[leaf] != hashes[position * MerkleTree.fanOut + offset] {
                    leaves.append(UInt16(leaf))
                }
            }
        }
        // No differing leaf: an empty listing tells the initiator its partition is done.
        let entries = leaves.isEmpty ? [] : keys(in: partition, leaves: leaves).map(keyDigest)
        send(
            .digests(partition: UInt32(partition), leaves: leaves, entries: entries), to: peer,
            now: now)
    }

    /// The keys this node holds in `leaves` of `partition` (no leaves: the whole partition),
    /// sorted.
    func keys(in partition: Int, leaves: [UInt16]) -> [[UInt8]] {
        let indexes = leaves.isEmpty ? Array(0..<MerkleTree.leafCount) : leaves.map(Int.init)
        return indexes.flatMap { leafKeys[partition * MerkleTree.leafCount + $0] ?? [] }
            .filter { durable[$0] != nil }
            .sorted { $0.lexicographicallyPrecedes($1) }
    }

    func keyDigest(_ key: [UInt8]) -> KeyDigest {
        KeyDigest(key: key, digest: digests[key]!, clock: durable[key]!.clock)
    }

    mutating func receiveDigests(
        partition: Int, _ leaves: [UInt16], _ entries: [KeyDigest], from peer: NodeID,
        now: GroupTime
    ) {
        guard exchanges(partition), leaves.allSatisfy({ Int($0) < MerkleTree.leafCount }) else {
            return
        }
        let leafSet = Set(leaves.map(Int.init))
        var theirs: [[UInt8]: KeyDigest] = [:]
        for entry in entries
        where ring.partition(of: entry.key) == partition
            && (leaves.isEmpty || leafSet.contains(MerkleTree.leaf(of: entry.key)))
        {
            theirs[entry.key] = entry
        }
        // Pull: only this node (the exchange's initiator) is repaired by it; the peer
        // repairs itself when it starts its own. Two peers then never send one node the same
        // states at once.
        var wanted: [[UInt8]] = []
        for key in keys(in: partition, leaves: leaves) {
            guard let entry = theirs.removeValue(forKey: key), entry.digest != digests[key] else {
                continue
            }
            // Wanted unless ours already descends theirs (then theirs adds nothing).
            let state = durable[key]!
            if !(state.clock.descends(from: entry.clock) && state.clock != entry.clock) {
                wanted.append(key)
            }
        }
        wanted.append(contentsOf: theirs.keys.sorted { $0.lexicographicallyPrecedes($1) })
        touchOwnExchange(peer, now: now)
        guard !wanted.isEmpty else { return exchangeFinished(partition, with: peer) }
        send(
            .exchange(partition: UInt32(partition), states: [], wanted: wanted), to: peer, now: now)
    }

    mutating func receiveExchange(
        partition: Int, _ incoming: [KeyState], wanted: [[UInt8]], from peer: NodeID,
        now: GroupTime
    ) {
        guard exchanges(partition) else { return }
        if wanted.isEmpty {
            touchOwnExchange(peer, now: now)
            exchangeFinished(partition, with: peer)
        }
        for entry in incoming where ring.partition(of: entry.key) == partition {
            if mergeAndPersist(entry.key, entry.state, then: .nothing, now: now) {
                statistics.antiEntropyKeysRepaired += 1
            }
        }
        let states = wanted.compactMap { key in
            durable[key].map { KeyState(key: key, state: $0) }
        }
        if !states.isEmpty {
            send(
                .exchange(partition: UInt32(partition), states: states, wanted: []), to: peer,
                now: now)
        }
    }

    /// The peer of this node's exchange says which partitions differ.
    mutating func receiveTreeDiffering(_ partitions: [UInt32], from peer: NodeID, now: GroupTime) {
        guard var exchange = ownExchange, exchange.peer == peer, exchange.pending == nil else {
            return
        }
        exchange.pending = Set(partitions.map(Int.init)).subtracting(exchange.finishedEarly)
        exchange.deadlineMillis = now.deadline(
            after: configuration.antiEntropyIntervalMillis * Self.exchangeQuietIntervals)
        ownExchange = exchange.pending!.isEmpty ? nil : exchange
    }

    /// One partition of this node's exchange with `peer` needs nothing more.
    mutating func exchangeFinished(_ partition: Int, with peer: NodeID) {
        guard var exchange = ownExchange, exchange.peer == peer else { return }
        guard var pending = exchange.pending else {
            // Messages may overtake the list of differing partitions.
            exchange.finishedEarly.insert(partition)
            ownExchange = exchange
            return
        }
        pending.remove(partition)
        exchange.pending = pending
        ownExchange = pending.isEmpty ? nil : exchange
    }
}

/// This node's exchange in progress: its peer, the partitions not finished (nil until the peer
/// has said which differ), and when to give up on it.
struct OwnExchange: Sendable {
    var peer: NodeID
    var deadlineMillis: UInt64
    var pending: Set<Int>?
    var finishedEarly: Set<Int> = []
}
