import CohortCheck
import CohortCore
import CohortNode
import CohortRaft
import CohortReplication

/// The checks: Raft safety after every event, and at the end linearizability with the final
/// state (no acknowledged write lost), session guarantees and bounded staleness.
extension Simulation {
    /// Called after every event that touched node `index`: folds its state into the trace
    /// hash, checks its invariants now and then, and shows it to the Raft safety checker.
    func afterEvent(_ index: Int) {
        let node = nodes[index]
        guard let runtime = node.runtime else { return }
        if runtime.isStopped {
            crash(index)
            schedule(.restart(node: index), afterMicros: ticks(random.integer(in: 1...20)))
            return
        }
        let raft = runtime.group.raft
        if raft.snapshotIndex > node.snapshotSeen {
            snapshotsTaken += 1
            node.snapshotSeen = raft.snapshotIndex
        }
        if raft.isLeader {
            // Nodes added online that a leader counts as voters: joined and promoted.
            promotedNodes.formUnion(raft.membership.voters.filter { !founderIDs.contains($0) })
        }
        let wasLeaderOfThisTerm = node.leaderTermSeen == raft.term
        if raft.isLeader && wasLeaderOfThisTerm && raft.commitIndex > node.commitSeen {
            // A leader counts replicas only for an entry of its own term (Raft §5.4.2).
            if options.checksRaftSafety, let entryTerm = raft.term(at: raft.commitIndex),
                entryTerm != raft.term
            {
                previousTermCommitPoints += 1
                record(
                    .raftSafety,
                    "\(node.name), leader of \(raft.term), advanced its commit index to "
                        + "\(raft.commitIndex), an entry of \(entryTerm) "
                        + "(Raft §5.4.2: earlier terms commit only through the leader's own)")
            }
            crashPointAfterLeaderCommit(index)
        }
        if raft.isLeader && node.leaderTermSeen != raft.term {
            elections += 1
            crashPointAfterElection(index)
        }
        if parameters.ackMode == .leader { noteCommitted(index) }
        node.leaderTermSeen = raft.isLeader ? raft.term : nil
        node.commitSeen = raft.commitIndex
        hasher.combine(raft.term.rawValue)
        hasher.combine(raft.commitIndex.rawValue)
        hasher.combine(raft.lastIndex.rawValue)
        if raft.commitIndex > commitIndexMax { commitIndexMax = raft.commitIndex }
        node.eventsHandled += 1
        if options.brokenVariant == nil
            && node.eventsHandled % Self.invariantCheckIntervalEvents == 0
        {
            raft.checkInvariants()
        }
        afterKeyspaceEvent(index)
        guard options.checksRaftSafety, let group = nodes[index].runtime?.group else { return }
        let found = safety.observe(
            [observation(of: group, node: node.id)], step: UInt64(eventsProcessed))
        for violation in found {
            record(.raftSafety, violation.description)
        }
    }

    /// What the safety checker sees of node `index`: what the rest of the world could have
    /// seen. A correct node sends nothing that depends on state before it is durable, so the
    /// world sees its durable term, and it counts as leader only once that term is durable.
    /// The log is the node's, with its commit index.
    func observation(of group: LeaderGroup, node: NodeID) -> RaftNodeObservation {
        let raft = group.raft
        let term = group.syncedHardState.term
        let entries = raft.entries.map { entry in
            var omitted = false
            if case .normalDataOmitted = entry.kind { omitted = true }
            return ObservedEntry(
                index: entry.index, term: entry.term, payloadDigest: Self.digest(entry),
                payloadOmitted: omitted)
        }
        let commit = min(raft.commitIndex, raft.lastIndex)
        return RaftNodeObservation(
            node: node, term: term, isLeader: raft.isLeader && raft.term == term,
            commitIndex: commit, appliedIndex: min(raft.appliedIndex, commit),
            firstIndex: raft.firstIndex, entries: entries)
    }

    /// The digest the checker compares entries by.
    static func digest(_ entry: RaftEntry) -> UInt64 {
        var hasher = TraceHasher()
        switch entry.kind {
        case .normal(let data):
            hasher.combine(byte: 1)
            for byte in data { hasher.combine(byte: byte) }
        case .noop:
            hasher.combine(byte: 2)
        case .membership(let membership):
            hasher.combine(byte: 3)
            for node in membership.voters { hasher.combine(node.rawValue) }
            hasher.combine(byte: 4)
            for node in membership.witnesses { hasher.combine(node.rawValue) }
            hasher.combine(byte: 5)
            for node in membership.learners { hasher.combine(node.rawValue) }
        case .normalDataOmitted:
            hasher.combine(byte: 6)
        }
        return hasher.value
    }

    func finalChecks() {
        if violations.isEmpty { checkSessionGuarantees() }
        if violations.isEmpty { checkBoundedStaleness() }
        if violations.isEmpty { checkLeaderModeWrites() }
        guard violations.isEmpty, options.checksLinearizability else { return }
        let checked = history
        let verdict: LinearizabilityResult
        if livenessReached, var finalValues = finalValues() {
            if clients.contains(where: { $0.keyspace != nil }) {
                finalValues += finalKeyspaceValues() ?? []
            }
            // Every `ok` write took effect: the final state must be explained too.
            verdict = AckedWriteChecker.checkFinalState(of: checked, finalValues: finalValues)
        } else {
            verdict = LinearizabilityChecker().check(checked)
        }
        switch verdict {
        case .linearizable:
            linearizabilityVerdict = "ok"
        case .notLinearizable:
            linearizabilityVerdict = "violated"
            record(.linearizability, verdict.description)
        case .unknown(let reason):
            linearizabilityVerdict = "unknown (\(reason))"
        }
    }

    /// Every `leader`-mode write acknowledged to a client either committed (some node applied
    /// it) or is in a rollback log: a failover may discard it, never silently (DESIGN.md §3).
    func checkLeaderModeWrites() {
        guard livenessReached, !leaderModeWrites.isEmpty else { return }
        var rolledBack: Set<[[UInt8]]> = []
        for log in rollbacks {
            for record in log.records {
                for effect in record.entry.effects {
                    if case .put(let key, let value, _, _) = effect {
                        rolledBack.insert([key, value])
                    }
                }
            }
        }
        let lost = leaderModeWrites.filter {
            !appliedValues.contains([$0.key, $0.value]) && !rolledBack.contains([$0.key, $0.value])
        }
        if let first = lost.first {
            record(
                .lostAcknowledgedWrite,
                "\(lost.count) leader-mode writes acknowledged, never applied and in no rollback "
                    + "log; first: \(String(decoding: first.key, as: UTF8.self))="
                    + "\(String(decoding: first.value, as: UTF8.self))")
        }
    }

    /// Every key's value on the member that applied the most, once the cluster has settled;
    /// nil when no member is up.
    func finalValues() -> [(key: [UInt8], value: [UInt8]?)]? {
        var best: SimNode?
        for node in nodes
        where node.isUp && node.isMember && !(node.runtime?.group.isWitness ?? true) {
            if best == nil || node.runtime!.group.appliedIndex > best!.runtime!.group.appliedIndex {
                best = node
            }
        }
        guard let best, let engine = best.executor?.engine else { return nil }
        return (0..<parameters.keyCount).map { key in
            let bytes = Self.keyBytes(key)
            let value = try? engine.get(bytes, nowMillis: best.now().wallMillis)
            return (bytes, value?.bytes)
        }
    }

    func result() -> SimulationResult {
        var found = violations
        if violationsDropped > 0, !found.isEmpty {
            found[0].message += " (and \(violationsDropped) more violations not kept)"
        }
        var lost = 0
        for node in nodes { lost += node.device.statistics.unsyncedWritesLost }
        var result = SimulationResult(
            seed: seed, options: options, parameters: parameters,
            eventsProcessed: eventsProcessed, simulatedMicros: nowMicros, elections: elections,
            commitIndexMax: commitIndexMax.rawValue,
            clientOperations: history.operations.count
                + sessionReads.count,
            clientOperationsSucceeded: operationsSucceeded,
            clientOperationsIndeterminate: operationsIndeterminate,
            writesAcknowledged: writesAcknowledged, crashes: crashes,
            partitions: partitions, membershipChanges: membershipChangesAccepted,
            learnersPromoted: promotedNodes.count,
            previousTermCommitPoints: previousTermCommitPoints, snapshotsTaken: snapshotsTaken,
            diskWritesLost: lost, livenessReached: livenessReached,
            linearizability: linearizabilityVerdict, violations: found,
            traceHash: hasher.value, traceTail: traceTail)
        result.keyspace.created = keyspaceCreated
        result.keyspace.writesAcknowledged = keyspaceWritesAcknowledged
        result.keyspace.proxiedCommandsServed = proxiedCommandsServed
        result.keyspace.moves = keyspaceMovesAccepted
        result.keyspace.reopens = keyspaceReopens
        return result
    }
}
