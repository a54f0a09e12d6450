import CohortCore

/// Sloppy quorums and hinted handoff (``LeaderlessConfiguration/sloppy``): a write whose home
/// replicas have not all answered within ``LeaderlessConfiguration/hintAfterMillis`` also
/// goes to the next nodes on the ring, one per silent home replica; a fallback node keeps the
/// copy durably as a hint for that replica, answers like a replica (its answer counts towards
/// W), and offers the hint to the home replica every
/// ``LeaderlessConfiguration/handoffIntervalMillis`` until the home replica confirms it holds
/// it durably. Hints are kept apart from the node's own keys (they are not in its Merkle
/// trees, and reads do not see them).
extension LeaderlessGroup {
    /// Hints this node holds durably, per home replica (status: hints pending per target).
    public var hintsPending: [NodeID: Int] {
        durableHints.mapValues(\.count)
    }

    /// Sends each write that waited ``LeaderlessConfiguration/hintAfterMillis`` without W
    /// answers to a fallback for every home replica that has not answered.
    mutating func substituteFallbacks(now: GroupTime) {
        for id in writes.keys.sorted() {
            guard var write = writes[id],
                now.millis(since: write.startMillis) >= configuration.hintAfterMillis,
                write.acknowledged.count < write.needed
            else { continue }
            let partition = ring.partition(of: write.key)
            let silent = ring.preferenceList(ofPartition: partition).filter {
                !write.acknowledged.contains($0) && !write.substituted.contains($0)
            }
            var candidates = ring.fallbacks(ofPartition: partition).filter {
                !write.fallbacks.contains($0)
            }
            for home in silent where !candidates.isEmpty {
                let fallback = candidates.removeFirst()
                write.substituted.insert(home)
                write.fallbacks.append(fallback)
                statistics.hintedWrites += 1
                send(
                    .replicateHint(
                        request: RequestID(id), key: write.key, state: write.state, home: home),
                    to: fallback, now: now)
            }
            writes[id] = write
        }
    }

    /// A coordinator asks this node to keep `state` of `key` for `home`.
    mutating func keepHint(
        _ request: RequestID, _ key: [UInt8], _ state: SiblingSet, for home: NodeID,
        from peer: NodeID, now: GroupTime
    ) {
        guard home != nodeID, ring.members.contains(home) else { return }
        let held = hints[home] ?? [:]
        if held[key] == nil, held.count >= configuration.hintsPerTargetMax {
            statistics.hintsRefused += 1
            return
        }
        if configuration.faults.contains(.hintDropped) {
            send(.replicated(request: request), to: peer, now: now)
            return
        }
        let merged = (held[key] ?? .empty).merged(with: state)
        persistHint(key, for: home, merged, then: .acknowledge(peer, request))
    }

    /// Offers every durable hint to its home replica (a bounded batch per replica and round).
    mutating func offerHints(now: GroupTime) {
        for home in durableHints.keys.sorted() {
            let keys = durableHints[home]!.keys.sorted { $0.lexicographicallyPrecedes($1) }
            for key in keys.prefix(Self.handoffBatchMax) {
                send(.handoff(key: key, state: durableHints[home]![key]!), to: home, now: now)
            }
        }
    }

    /// Hints offered to one home replica per round.
    static let handoffBatchMax = 256

    /// A fallback hands this node, the home replica, a hinted state.
    mutating func receiveHandoff(
        _ key: [UInt8], _ state: SiblingSet, from peer: NodeID, now: GroupTime
    ) {
        guard ring.preferenceList(of: key).contains(nodeID) else { return }
        _ = mergeAndPersist(
            key, state, then: .confirmHandoff(peer, key, Self.digest(state)), now: now)
    }

    /// The home replica holds the hint of `key` durably: drop it, unless it changed since.
    mutating func handoffConfirmed(
        _ key: [UInt8], _ digest: UInt64, by home: NodeID, now: GroupTime
    ) {
        guard let hint = hints[home]?[key], Self.digest(hint) == digest else { return }
        statistics.hintsHandedOff += 1
        persistHint(key, for: home, nil, then: .nothing)
    }
}
