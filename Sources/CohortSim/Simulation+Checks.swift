import CohortCheck
import CohortCore
import CohortRaft

/// The checks: Raft safety after every event, and at the end linearizability, lost
/// acknowledged writes and agreement of the state machines.
extension Simulation {
    /// Called after every event that touched node `index`: folds its state into the trace
    /// hash, checks its invariants now and then, and shows it to the Raft safety checker.
    func afterEvent(_ index: Int) {
        guard let raft = nodes[index].raft else { return }
        let wasLeaderOfThisTerm = nodes[index].leaderTermSeen == raft.term
        if raft.isLeader && wasLeaderOfThisTerm && raft.commitIndex > nodes[index].commitSeen {
            // A leader counts replicas only for an entry of its own term (Raft §5.4.2): its
            // commit index may never land on an entry of an earlier term.
            if options.checksRaftSafety, let entryTerm = raft.term(at: raft.commitIndex),
                entryTerm != raft.term
            {
                previousTermCommitPoints += 1
                record(
                    .raftSafety,
                    "\(raft.id), leader of \(raft.term), advanced its commit index to "
                        + "\(raft.commitIndex), an entry of \(entryTerm) "
                        + "(Raft §5.4.2: earlier terms commit only through the leader's own)")
            }
            crashPointAfterLeaderCommit(index)
        }
        nodes[index].leaderTermSeen = raft.isLeader ? raft.term : nil
        nodes[index].commitSeen = raft.commitIndex
        hasher.combine(raft.term.rawValue)
        hasher.combine(raft.commitIndex.rawValue)
        hasher.combine(raft.lastIndex.rawValue)
        if raft.commitIndex > commitIndexMax { commitIndexMax = raft.commitIndex }
        nodes[index].eventsHandled += 1
        if options.brokenVariant == nil && Self.invariantChecksEnabled
            && nodes[index].eventsHandled % Self.invariantCheckIntervalEvents == 0
        {
            raft.checkInvariants()
        }
        guard options.checksRaftSafety else { return }
        let found = safety.observe([observation(index)], step: UInt64(eventsProcessed))
        for violation in found {
            record(.raftSafety, violation.description)
        }
    }

    /// What the safety checker sees of node `index`: what the rest of the world could have
    /// seen. A correct node sends nothing that depends on state before it is durable, so the
    /// world sees its durable term, and it counts as leader only once that term is durable
    /// (a crash could still take the rest back). Under `.ackBeforeFsync` messages leave first,
    /// so the world sees a leader at its in-memory term (observing it at once also stops the
    /// run before a second leader's messages reach a follower, where Raft itself would trap).
    /// The log is what the node handed out for persistence, and the commit index is capped
    /// to it.
    func observation(_ index: Int) -> RaftNodeObservation {
        let raft = nodes[index].raft!
        let log = nodes[index].observedLog
        let durableTerm = nodes[index].disk.durable.hardState.term
        let term =
            options.brokenVariant == .ackBeforeFsync && raft.isLeader ? raft.term : durableTerm
        let commit = min(raft.commitIndex, log.lastIndex)
        let applied = min(nodes[index].machine.appliedIndex, commit)
        return RaftNodeObservation(
            node: nodes[index].id, term: term, isLeader: raft.isLeader && raft.term == term,
            commitIndex: commit, appliedIndex: applied, firstIndex: log.firstIndex,
            entries: log.entries)
    }

    func finalChecks() {
        if violations.isEmpty && livenessReached {
            checkAcknowledgedWrites()
            checkStateMachinesAgree()
        }
        if violations.isEmpty && options.checksLinearizability {
            let verdict = LinearizabilityChecker().check(history)
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
    }

    /// Every write acknowledged to a client must be in the state of the most advanced node:
    /// both commit modes (`.majority` and `.all`) promise that an acknowledged write survives
    /// any minority of crashes.
    private func checkAcknowledgedWrites() {
        var best: Int?
        for index in nodes.indices where nodes[index].isUp && nodes[index].isMember {
            if best == nil || nodes[index].machine.appliedIndex > nodes[best!].machine.appliedIndex
            {
                best = index
            }
        }
        guard let best else { return }
        let applied = nodes[best].machine.appliedWrites
        let lost = acknowledgedWrites.filter { !applied.contains($0.identity) }
        if let first = lost.first {
            record(
                .lostAcknowledgedWrite,
                "\(lost.count) acknowledged writes missing from \(nodes[best].id) (applied "
                    + "\(nodes[best].machine.appliedIndex)), first: \(first.summary)")
        }
    }

    /// Nodes that applied the same prefix must hold the same state.
    private func checkStateMachinesAgree() {
        var digestByApplied: [LogIndex: (node: NodeID, digest: UInt64)] = [:]
        for index in nodes.indices where nodes[index].isUp {
            let machine = nodes[index].machine
            let digest = machine.digest
            if let seen = digestByApplied[machine.appliedIndex] {
                if seen.digest != digest {
                    record(
                        .stateMachine,
                        "\(seen.node) and \(nodes[index].id) applied through "
                            + "\(machine.appliedIndex) but hold different states")
                }
            } else {
                digestByApplied[machine.appliedIndex] = (nodes[index].id, digest)
            }
        }
    }

    func result() -> SimulationResult {
        var found = violations
        if violationsDropped > 0, !found.isEmpty {
            found[0].message += " (and \(violationsDropped) more violations not kept)"
        }
        var lost = 0
        for node in nodes { lost += node.disk.writesLost }
        let operations = history.operations.count
        return SimulationResult(
            seed: seed, options: options, parameters: parameters,
            eventsProcessed: eventsProcessed, simulatedMicros: nowMicros, elections: elections,
            commitIndexMax: commitIndexMax.rawValue, clientOperations: operations,
            clientOperationsSucceeded: operationsSucceeded,
            clientOperationsIndeterminate: operationsIndeterminate,
            writesAcknowledged: acknowledgedWrites.count, crashes: crashes,
            partitions: partitions, membershipChanges: membershipChangesAccepted,
            learnersPromoted: promotedNodes.count,
            previousTermCommitPoints: previousTermCommitPoints,
            snapshotsTaken: snapshotsTaken, snapshotsInstalled: snapshotsInstalled,
            leadershipTransfers: transfersAccepted, diskWritesLost: lost,
            livenessReached: livenessReached, linearizability: linearizabilityVerdict,
            violations: found, traceHash: hasher.value, traceTail: traceTail)
    }
}
