import CohortCore
import CohortReplication

/// The leaderless checkers (issue 19, item 9):
///
/// - convergence: after the heal, every key's replicas hold equal durable states within
///   ``LeaderlessSimulationOptions/convergenceMillisMax``, by anti-entropy alone (the clients
///   have stopped, so no read repairs);
/// - no acknowledged write lost: each is still a sibling of the converged state, or some write
///   was submitted with a context that covered its dot (it was superseded by a writer who
///   saw it);
/// - siblings only for concurrent writes: no sibling's write had a context covering another
///   sibling's dot;
/// - with W + R > N, a read never misses a write acknowledged before it started;
/// - reads return only values some client wrote;
/// - an acknowledged write is durable on at least W nodes (home replicas or fallbacks holding
///   it as a hint) when its acknowledgement arrives;
/// - after the heal, every hint has reached its home replica;
/// - nothing comes back: no sibling of the final state was superseded by an acknowledged
///   write (a delete whose tombstone was collected too early brings its value back).
extension LeaderlessSimulation {
    func checkConvergence() {
        guard let healMillis else { return }
        if divergentKeys().isEmpty,
            nodes.allSatisfy({ $0.unsynced.isEmpty && $0.hintDisk.isEmpty })
        {
            result.convergenceMillis = nowMillis - healMillis
            finished = true
            return
        }
        if nowMillis - healMillis >= options.convergenceMillisMax {
            for node in nodes where !node.hintDisk.isEmpty {
                let counts = node.hintDisk.keys.sorted().map {
                    "\($0): \(node.hintDisk[$0]!.count)"
                }
                violation(
                    "\(node.id) still holds hints \(options.convergenceMillisMax) ms after the "
                        + "heal: " + counts.joined(separator: ", "))
            }
            for key in divergentKeys().prefix(5) {
                let states = ring.preferenceList(of: key).map {
                    "\($0): \(nodes[Int($0.rawValue) - 1].disk[key] ?? .empty)"
                }
                violation(
                    "replicas of \(text(key)) still differ \(options.convergenceMillisMax) ms "
                        + "after the heal: " + states.joined(separator: "; "))
            }
            finished = true
            return
        }
        queue.schedule(.checkConvergence, atMicros: nowMillis + Self.convergenceCheckMillis)
    }

    /// Keys whose replicas' durable states differ.
    func divergentKeys() -> [[UInt8]] {
        writtenKeys().filter { key in
            let states = ring.preferenceList(of: key).map {
                nodes[Int($0.rawValue) - 1].disk[key] ?? .empty
            }
            return states.contains { $0 != states[0] }
        }
    }

    func writtenKeys() -> [[UInt8]] {
        var keys = Set<[UInt8]>()
        for node in nodes { keys.formUnion(node.disk.keys) }
        return keys.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// The merge of the home replicas' durable states of `key` (equal to each once
    /// converged).
    func finalState(of key: [UInt8]) -> SiblingSet {
        ring.preferenceList(of: key).reduce(SiblingSet.empty) {
            $0.merged(with: nodes[Int($1.rawValue) - 1].disk[key] ?? .empty)
        }
    }

    /// At its acknowledgement, write `dot` must be durable on W nodes: on a home replica's
    /// disk, or as a hint on a fallback's (or superseded there by a state that covers it).
    func checkDurableCopies(of dot: Dot, key: [UInt8]) {
        // A node that collected the key's tombstone after a delete superseded the write holds
        // the key's clock as a grave (the tombstone was then on every home replica).
        let copies = nodes.filter { node in
            if node.disk[key]?.clock.covers(dot) == true { return true }
            if node.group?.graveClock(of: key)?.covers(dot) == true { return true }
            return node.hintDisk.values.contains { $0[key]?.clock.covers(dot) == true }
        }.count
        if copies < configuration.writeQuorum {
            violation(
                "write \(dot) of \(text(key)) was acknowledged with \(copies) durable copies, "
                    + "fewer than W = \(configuration.writeQuorum)")
        }
    }

    func finalChecks() {
        for statistics in retiredStatistics + nodes.compactMap({ $0.group?.statistics }) {
            result.readRepairs += statistics.readRepairs
            result.antiEntropyKeysRepaired += statistics.antiEntropyKeysRepaired
            result.hintedWrites += statistics.hintedWrites
            result.hintsHandedOff += statistics.hintsHandedOff
            result.tombstonesCollected += statistics.tombstonesCollected
        }
        var finals: [[UInt8]: SiblingSet] = [:]
        for key in keys { finals[key] = finalState(of: key) }
        for state in finals.values { state.checkInvariants() }
        checkNoAcknowledgedWriteLost(finals)
        checkSiblingsConcurrent(finals)
        checkNothingResurrected(finals)
        checkReads()
    }

    private func checkNoAcknowledgedWriteLost(_ finals: [[UInt8]: SiblingSet]) {
        // A delete's own tombstone may be collected; what it deleted must stay deleted
        // (checkNothingResurrected).
        for write in writes where write.value != nil {
            guard case .acknowledged(let dot, _) = write.outcome else { continue }
            let final = finals[write.key] ?? .empty
            if final.holds(dot) { continue }
            let superseded = writes.contains { $0.key == write.key && $0.context.covers(dot) }
            if !superseded {
                violation(
                    "acknowledged write \(dot) of \(text(write.key)) = \(text(write.value)) is "
                        + "lost: no write saw it, and the final state is \(final)")
            }
        }
    }

    private func checkNothingResurrected(_ finals: [[UInt8]: SiblingSet]) {
        for key in keys {
            guard let final = finals[key] else { continue }
            for sibling in final.siblings {
                let superseding = writes.first { write in
                    guard write.key == key, case .acknowledged = write.outcome else { return false }
                    return write.context.covers(sibling.dot)
                }
                if let superseding {
                    violation(
                        "\(sibling) of \(text(key)) came back: the acknowledged write of "
                            + "\(text(superseding.value)) with context \(superseding.context) "
                            + "superseded it")
                }
            }
        }
    }

    private func checkSiblingsConcurrent(_ finals: [[UInt8]: SiblingSet]) {
        for key in keys {
            guard let final = finals[key], final.siblings.count > 1 else { continue }
            let records = final.siblings.map { record(of: $0, key: key) }
            for (first, firstRecord) in records.enumerated() {
                guard let firstRecord else { continue }
                for second in final.siblings.indices where second != first {
                    let dot = final.siblings[second].dot
                    if writes[firstRecord].context.covers(dot) {
                        violation(
                            "siblings \(final.siblings[first]) and \(final.siblings[second]) of "
                                + "\(text(key)) are not concurrent: the first was written with "
                                + "context \(writes[firstRecord].context), which covers \(dot)")
                    }
                }
            }
        }
    }

    /// The write record of `sibling`: by its value (values are unique), or by its dot for an
    /// acknowledged delete.
    private func record(of sibling: Sibling, key: [UInt8]) -> Int? {
        writes.indices.first { index in
            let write = writes[index]
            guard write.key == key else { return false }
            if let value = sibling.value { return write.value == value }
            if write.value == nil, case .acknowledged(let dot, _) = write.outcome {
                return dot == sibling.dot
            }
            return false
        }
    }

    private func checkReads() {
        let written = Set(writes.compactMap(\.value))
        for read in reads {
            for value in read.state.values where !written.contains(value) {
                violation("a read of \(text(read.key)) returned \(text(value)), never written")
            }
        }
        guard configuration.quorumsOverlap else { return }
        for write in writes {
            guard case .acknowledged(let dot, let ackMillis) = write.outcome else { continue }
            // A delete (this write, or one that superseded it) may have been collected; a
            // replica whose grave a restart forgot starts the key's history anew, so a later
            // read's clock need not cover the deleted write (nothing deleted may come back:
            // checkNothingResurrected).
            let deletedLater =
                write.value == nil
                || writes.contains {
                    $0.key == write.key && $0.value == nil && $0.context.covers(dot)
                }
            for read in reads
            where read.key == write.key && read.startMillis > ackMillis
                && !read.state.clock.covers(dot) && !deletedLater
            {
                violation(
                    "a read of \(text(read.key)) started at \(read.startMillis) ms missed write "
                        + "\(dot), acknowledged at \(ackMillis) ms (W + R > N): \(read.state)")
                return
            }
        }
    }

    func text(_ bytes: [UInt8]?) -> String {
        bytes.map { String(decoding: $0, as: UTF8.self) } ?? "<delete>"
    }
}
