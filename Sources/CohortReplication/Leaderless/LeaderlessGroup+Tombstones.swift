import CohortCore

/// Collecting tombstones (issue 19, item 5). A delete leaves a tombstone sibling; once a key's
/// state on this replica is only tombstones, the replica asks the key's other home replicas,
/// with each anti-entropy round, whether they hold exactly that state durably. When every one
/// of them has said so, no home replica holds anything the delete did not supersede, and this
/// replica removes the key. It keeps the key's clock in memory (``graves``, bounded), so a
/// copy of the old history arriving late (from a replica that has not collected yet, or a hint)
/// stays superseded instead of bringing the deleted value back. Never on a timer alone.
///
/// Dots come from a node-wide counter (``newDot(at:)``), so a key written again after its
/// collection gets dots no old clock covers.
extension LeaderlessGroup {
    /// The clock this node remembers of `key` after collecting its tombstone, if any.
    public func graveClock(of key: [UInt8]) -> VersionVector? {
        states[key] == nil ? graves[key] : nil
    }

    /// Graves kept in memory.
    static let gravesMax = 100_000
    /// Keys asked about per peer and round.
    static let tombstoneQueryBatchMax = 256

    /// Asks the other home replicas whether they hold this node's tombstone-only states.
    mutating func queryTombstones(now: GroupTime) {
        guard !tombstoneKeys.isEmpty else { return }
        if configuration.faults.contains(.tombstoneCollectedEarly) {
            for key in tombstoneKeys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                collectTombstone(key, keepingGrave: false)
            }
            return
        }
        var queries: [NodeID: [KeyDigest]] = [:]
        for key in tombstoneKeys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard states[key] == durable[key] else { continue }  // a change is on its way
            let confirmed = tombstoneConfirmations[key]?.by ?? []
            for peer in ring.preferenceList(of: key)
            where peer != nodeID && !confirmed.contains(peer)
                && (queries[peer]?.count ?? 0) < Self.tombstoneQueryBatchMax
            {
                queries[peer, default: []].append(keyDigest(key))
            }
        }
        for peer in queries.keys.sorted() {
            send(.tombstoneQuery(entries: queries[peer]!), to: peer, now: now)
        }
    }

    /// Says which of the queried tombstones this node holds durably, unchanged, or has
    /// collected already (its grave's clock covers the queried state's).
    mutating func answerTombstoneQuery(_ entries: [KeyDigest], from peer: NodeID, now: GroupTime) {
        let held = entries.filter { entry in
            if states[entry.key] == nil, let grave = graves[entry.key] {
                return grave.descends(from: entry.clock)
            }
            return digests[entry.key] == entry.digest && states[entry.key] == durable[entry.key]
        }
        if !held.isEmpty { send(.tombstonesHeld(entries: held), to: peer, now: now) }
    }

    /// `peer` holds these tombstones; a key every other home replica confirmed is collected.
    mutating func tombstonesConfirmed(_ entries: [KeyDigest], by peer: NodeID, now: GroupTime) {
        for entry in entries {
            guard tombstoneKeys.contains(entry.key), digests[entry.key] == entry.digest,
                states[entry.key] == durable[entry.key]
            else { continue }
            var confirmation = tombstoneConfirmations[entry.key] ?? (entry.digest, [])
            if confirmation.digest != entry.digest { confirmation = (entry.digest, []) }
            confirmation.by.insert(peer)
            tombstoneConfirmations[entry.key] = confirmation
            let others = ring.preferenceList(of: entry.key).filter { $0 != nodeID }
            if others.allSatisfy(confirmation.by.contains) {
                collectTombstone(entry.key, keepingGrave: true)
            }
        }
    }

    /// Removes `key` (its state is only tombstones), remembering its clock unless broken.
    mutating func collectTombstone(_ key: [UInt8], keepingGrave: Bool) {
        guard let state = durable[key], state.isDeleted, states[key] == state else { return }
        statistics.tombstonesCollected += 1
        states[key] = nil
        if keepingGrave {
            if graves.updateValue(state.clock, forKey: key) == nil { graveOrder.append(key) }
            if graveOrder.count - graveOrderStart > Self.gravesMax {
                let oldest = graveOrder[graveOrderStart]
                graveOrderStart += 1
                if states[oldest] == nil { graves[oldest] = nil }
                if graveOrderStart > Self.gravesMax {
                    graveOrder.removeFirst(graveOrderStart)
                    graveOrderStart = 0
                }
            }
        }
        persist(key, .empty, then: .nothing)
    }
}
