import CohortCheck
import CohortCore
import CohortRaft

/// The node driver: how a simulated server runs its Raft node against the simulated disk and
/// network, following `RaftReady`'s contract (persist, sync, then send, apply, advance).
extension Simulation {
    /// Starts (or restarts) node `index` from whatever its disk holds durably.
    func start(_ index: Int, bootstrap: RaftMembership) {
        let id = nodes[index].id
        let image = nodes[index].disk.durable
        var durable = image.durableState
        if durable.hardState.commitIndex > image.lastIndex {
            record(
                .raftSafety,
                "\(id) recovered commit index \(durable.hardState.commitIndex) beyond its durable "
                    + "log \(image.lastIndex)")
            durable.hardState.commitIndex = image.lastIndex
        }
        var machine = KeyValueStateMachine()
        if let snapshot = image.snapshot {
            if let restored = KeyValueStateMachine(snapshot: snapshot.data) {
                machine = restored
            } else {
                record(.stateMachine, "\(id) cannot decode its durable snapshot")
            }
        }
        nodes[index].bootstrapMembership = bootstrap
        nodes[index].machine = machine
        nodes[index].raft = RaftNode(
            id: id, config: raftConfig, membership: bootstrap, durableState: durable,
            randomSeed: random.next())
        nodes[index].incarnation += 1
        nodes[index].outstandingReady = nil
        nodes[index].outstandingSync = nil
        nodes[index].writtenLastIndex = image.lastIndex
        nodes[index].observedLog.reset(
            snapshotIndex: image.snapshot?.metadata.index ?? .zero, entries: image.entries)
        safety.nodeRestarted(id)
        let firstTick = random.integer(in: UInt64(1)...nodes[index].tickMicros)
        schedule(
            .tick(node: index, incarnation: nodes[index].incarnation), afterMicros: firstTick)
    }

    /// Crashes node `index`: its volatile state is gone, and its disk keeps only what was
    /// synced (plus, sometimes, an ordered prefix of the rest with a torn tail).
    func crash(_ index: Int) {
        guard nodes[index].isUp else { return }
        nodes[index].raft = nil
        nodes[index].outstandingReady = nil
        nodes[index].outstandingSync = nil
        nodes[index].proposals = [:]
        nodes[index].readRequests = [:]
        nodes[index].readsAwaitingApply = []
        nodes[index].incarnation += 1
        let keeps = random.chance(parameters.keepsUnsyncedPrefixProbability)
        nodes[index].disk.crash(random: &random, keepsUnsyncedPrefix: keeps)
        hasher.combine(index)
        hasher.combine(nodes[index].disk.writesLost)
    }

    func handleTick(_ index: Int, incarnation: Int) {
        guard nodes[index].incarnation == incarnation, nodes[index].isUp else { return }
        nodes[index].raft!.tick()
        drive(index)
        var next = nodes[index].tickMicros
        if nodes[index].stallTicks > 0 {
            next += ticks(nodes[index].stallTicks)
            nodes[index].stallTicks = 0
        }
        schedule(.tick(node: index, incarnation: incarnation), afterMicros: next)
        afterEvent(index)
    }

    func handleRaftMessage(_ message: RaftMessage) {
        hasher.combine(message.from.rawValue)
        hasher.combine(message.to.rawValue)
        hasher.combine(message.term.rawValue)
        let index = Int(message.to.rawValue) - 1
        guard nodes.indices.contains(index), nodes[index].isUp else { return }
        guard network.allows(from: message.from, to: message.to) else {
            network.recordPartitionDrop()
            return
        }
        nodes[index].raft!.receive(message)
        drive(index)
        afterEvent(index)
    }

    func handleFsyncCompleted(
        _ index: Int, incarnation: Int, token: SimDisk<RaftDiskImage>.SyncToken
    ) {
        nodes[index].disk.completeSync(token)
        guard nodes[index].incarnation == incarnation, nodes[index].isUp,
            nodes[index].outstandingSync == token, let ready = nodes[index].outstandingReady
        else { return }
        nodes[index].outstandingReady = nil
        nodes[index].outstandingSync = nil
        finish(index, ready)
        drive(index)
        afterEvent(index)
    }

    /// Takes readies from node `index` while it has them and none awaits an fsync.
    func drive(_ index: Int) {
        var iterations = 0
        while nodes[index].outstandingReady == nil, let raft = nodes[index].raft, raft.hasReady {
            iterations += 1
            precondition(iterations < 10_000, "\(nodes[index].id) produced 10000 readies in a row")
            let ready = nodes[index].raft!.ready()
            if let snapshot = ready.snapshot {
                nodes[index].observedLog.compact(
                    through: snapshot.metadata.index, replacesAll: true)
            }
            nodes[index].observedLog.append(ready.entriesToAppend)
            if let softState = ready.softState, softState.role == .leader {
                elections += 1
                crashPointAfterElection(index)
            }
            guard ready.needsPersistence else {
                finish(index, ready)
                continue
            }
            let token = persist(index, ready)
            if options.brokenVariant == .ackBeforeFsync {
                // The deliberate bug: report durable (and send) before the fsync completes.
                finish(index, ready)
            } else {
                nodes[index].outstandingReady = ready
                nodes[index].outstandingSync = token
            }
        }
    }

    /// Issues the disk writes of a ready and an fsync covering them.
    private func persist(_ index: Int, _ ready: RaftReady) -> SimDisk<RaftDiskImage>.SyncToken {
        if let hardState = ready.hardState {
            // Term and vote go first, so no surviving entry is newer than the durable term;
            // the commit index in this early copy only covers entries already written, so a
            // crash that keeps it never leaves a commit index beyond the durable log.
            var early = hardState
            var covered = nodes[index].writtenLastIndex
            if let first = ready.entriesToAppend.first {
                covered = min(covered, first.index.previous)
            }
            early.commitIndex = min(early.commitIndex, covered)
            nodes[index].disk.write(.hardState(early))
        }
        if let snapshot = ready.snapshot {
            nodes[index].disk.write(.installSnapshot(snapshot))
            nodes[index].writtenLastIndex = snapshot.metadata.index
        }
        if let last = ready.entriesToAppend.last {
            nodes[index].disk.write(.entries(ready.entriesToAppend))
            nodes[index].writtenLastIndex = last.index
        }
        if let hardState = ready.hardState {
            nodes[index].disk.write(.hardState(hardState))
        }
        let token = nodes[index].disk.startSync()
        let latency = random.integer(in: parameters.fsyncMicrosMin...parameters.fsyncMicrosMax)
        schedule(
            .fsyncCompleted(node: index, incarnation: nodes[index].incarnation, token: token),
            afterMicros: latency)
        return token
    }

    /// Steps 2–4 of a ready: send, restore and apply, advance.
    private func finish(_ index: Int, _ ready: RaftReady) {
        for message in ready.messages { send(message) }
        crashPointAfterSending(index, ready.messages)
        if let snapshot = ready.snapshot {
            if let restored = KeyValueStateMachine(snapshot: snapshot.data) {
                nodes[index].machine = restored
            } else {
                record(.stateMachine, "\(nodes[index].id) received an undecodable snapshot")
            }
            snapshotsInstalled += 1
        }
        for entry in ready.committedEntries { apply(index, entry) }
        for readState in ready.readStates {
            guard var read = nodes[index].readRequests.removeValue(forKey: readState.requestID)
            else { continue }
            read.index = readState.index
            if nodes[index].readsAwaitingApply.count >= Self.readRequestsPendingMax {
                // Its client has long timed out.
                nodes[index].readsAwaitingApply.removeFirst()
            }
            nodes[index].readsAwaitingApply.append(read)
        }
        serveReads(index)
        nodes[index].raft!.advance(ready)
        compactIfDue(index)
    }

    private func apply(_ index: Int, _ entry: RaftEntry) {
        let applied = nodes[index].machine.appliedIndex
        if entry.index <= applied { return }
        guard entry.index == applied.next else {
            record(
                .stateMachine,
                "\(nodes[index].id) asked to apply \(entry) after applied index \(applied)")
            return
        }
        guard case .normal(let data) = entry.kind, let request = KeyValueRequest(decoding: data)
        else {
            nodes[index].machine.skip(index: entry.index)
            return
        }
        let response = nodes[index].machine.apply(request, at: entry.index)
        if let proposal = nodes[index].proposals.removeValue(forKey: entry.index),
            proposal.term == entry.term,
            clients[proposal.client].clientID == request.clientID,
            proposal.sequence == request.sequence
        {
            reply(
                from: nodes[index].id, to: proposal.client, sequence: proposal.sequence,
                .response(response))
        }
    }

    /// Answers the reads whose index the state machine has reached.
    func serveReads(_ index: Int) {
        let applied = nodes[index].machine.appliedIndex
        var waiting: [SimulatedNode.PendingRead] = []
        for read in nodes[index].readsAwaitingApply {
            if let readIndex = read.index, readIndex <= applied {
                let value = nodes[index].machine.values[read.key]
                reply(
                    from: nodes[index].id, to: read.client, sequence: read.sequence,
                    .response(.value(value)))
            } else {
                waiting.append(read)
            }
        }
        nodes[index].readsAwaitingApply = waiting
    }

    private func compactIfDue(_ index: Int) {
        guard let threshold = parameters.snapshotThresholdEntries,
            let raft = nodes[index].raft
        else { return }
        let applied = nodes[index].machine.appliedIndex
        guard applied == raft.appliedIndex,
            applied.rawValue >= raft.snapshotIndex.rawValue + UInt64(threshold)
        else { return }
        nodes[index].raft!.compact(
            upTo: applied, snapshotData: nodes[index].machine.snapshotBytes())
        guard let snapshot = nodes[index].raft!.snapshot else { return }
        // The driver made the snapshot, so it persists it (synced with the next ready).
        nodes[index].disk.write(.compaction(snapshot))
        nodes[index].writtenLastIndex = max(nodes[index].writtenLastIndex, applied)
        nodes[index].observedLog.compact(through: applied, replacesAll: false)
        snapshotsTaken += 1
    }

    /// Hands a Raft message to the network.
    func send(_ message: RaftMessage) {
        let arrivals = network.arrivalTimes(
            from: message.from, to: message.to, nowMicros: nowMicros, random: &random)
        for arrival in arrivals {
            queue.schedule(.raftMessage(message), atMicros: arrival)
        }
    }
}
