import CohortCore

/// Anti-entropy between the replicas of a partition, always on: every interval a node sends
/// one peer the digest of each key it holds in one of its partitions (partitions and peers in
/// turn); the peer answers with the states the sender lacks or holds differently, and asks for
/// the sender's; the sender merges and sends those back. Both end with the merge of the two.
///
/// The digests are a flat list per partition today: the exchange's bytes grow with the
/// partition's keys, not with the differences. A Merkle tree per partition (issue 19) replaces
/// the list with the few hashes on the paths to the differing keys.
extension LeaderlessGroup {
    mutating func startAntiEntropy(now: GroupTime) {
        let partitions = ring.partitions(heldBy: nodeID).filter {
            !(configuration.faults.contains(.antiEntropySkipsPartition) && $0 == 0)
        }
        guard !partitions.isEmpty else { return }
        let partition = partitions[antiEntropyTurn % partitions.count]
        let peers = ring.preferenceList(ofPartition: partition).filter { $0 != nodeID }
        guard !peers.isEmpty else { return }
        let peer = peers[(antiEntropyTurn / partitions.count) % peers.count]
        antiEntropyTurn += 1
        statistics.antiEntropyExchanges += 1
        send(
            .digests(partition: UInt32(partition), entries: digests(of: partition)), to: peer,
            now: now)
    }

    /// The digests of the durable states this node holds in `partition`, sorted by key.
    func digests(of partition: Int) -> [KeyDigest] {
        keys(in: partition).map { KeyDigest(key: $0, digest: Self.digest(durable[$0]!)) }
    }

    func keys(in partition: Int) -> [[UInt8]] {
        durable.keys.filter { ring.partition(of: $0) == partition }
            .sorted { $0.lexicographicallyPrecedes($1) }
    }

    static func digest(_ state: SiblingSet) -> UInt64 {
        FNV1a.hash(state.encoded)
    }

    mutating func receiveDigests(
        partition: Int, _ entries: [KeyDigest], from peer: NodeID, now: GroupTime
    ) {
        guard partition >= 0, partition < ring.partitionCount,
            ring.preferenceList(ofPartition: partition).contains(nodeID),
            !(configuration.faults.contains(.antiEntropySkipsPartition) && partition == 0)
        else { return }
        var theirs: [[UInt8]: UInt64] = [:]
        for entry in entries where ring.partition(of: entry.key) == partition {
            theirs[entry.key] = entry.digest
        }
        var states: [KeyState] = []
        var wanted: [[UInt8]] = []
        for key in keys(in: partition) {
            let state = durable[key]!
            if let digest = theirs.removeValue(forKey: key) {
                if digest != Self.digest(state) {
                    states.append(KeyState(key: key, state: state))
                    wanted.append(key)
                }
            } else {
                states.append(KeyState(key: key, state: state))
            }
        }
        wanted.append(contentsOf: theirs.keys.sorted { $0.lexicographicallyPrecedes($1) })
        guard !states.isEmpty || !wanted.isEmpty else { return }
        send(
            .exchange(partition: UInt32(partition), states: states, wanted: wanted), to: peer,
            now: now)
    }

    mutating func receiveExchange(
        partition: Int, _ incoming: [KeyState], wanted: [[UInt8]], from peer: NodeID,
        now: GroupTime
    ) {
        guard partition >= 0, partition < ring.partitionCount,
            ring.preferenceList(ofPartition: partition).contains(nodeID)
        else { return }
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
}
