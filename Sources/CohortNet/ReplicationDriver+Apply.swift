import CohortCore
import CohortNode
import CohortRaft
import CohortReplication
import CohortStorage

extension ReplicationDriver {
    /// Applies committed entries to the engine, in order, and answers the writes they carry.
    /// Consecutive key-value entries are merged (the last write of each key wins, in log
    /// order) and applied as one atomic engine group under the last one's index: one append
    /// and one index update per key per ready instead of one per entry. Writes are answered
    /// only after the group is in the engine, so a reply never precedes what it promises.
    func apply(_ entries: [RaftEntry]) {
        var batch: [[UInt8]: KeyWrite] = [:]
        var batchLast: LogIndex?
        var processed: [(index: LogIndex, term: Term)] = []

        func flush() -> Bool {
            if let last = batchLast, !batch.isEmpty {
                do {
                    try engine.apply(
                        batch, sequence: last.rawValue, nowMillis: WallClock.nowMillis())
                } catch {
                    stop(because: "applying committed entries failed", error: "\(error)")
                    return false
                }
                // Followers have no overlay: nothing to look up.
                for key in batch.keys where !overlayIndex.isEmpty {
                    if let written = overlayIndex[key], written <= last {
                        overlayIndex[key] = nil
                        overlay[key] = nil
                    }
                }
            }
            batch.removeAll(keepingCapacity: true)
            batchLast = nil
            for (index, term) in processed {
                appliedIndex = max(appliedIndex, index)
                resolvePending(at: index, term: term)
            }
            processed.removeAll(keepingCapacity: true)
            return true
        }

        for entry in entries {
            guard case .normal(let data) = entry.kind else {
                processed.append((entry.index, entry.term))
                continue
            }
            if data.first == MemberEntry.tag {
                guard flush() else { return }
                if let member = MemberEntry.decode(data) { applyMember(member) }
                processed.append((entry.index, entry.term))
                continue
            }
            if data.first == KeyspaceDefinition.tag {
                guard flush() else { return }
                if let definition = KeyspaceDefinition.decode(data) {
                    applyKeyspace(definition)
                } else {
                    stop(because: "undecodable keyspace entry at \(entry.index)", error: "")
                    return
                }
                processed.append((entry.index, entry.term))
                continue
            }
            if entry.index > engineAppliedAtStart {
                guard let logical = LogicalEntryCodec.decode(data) else {
                    // Entries are checksummed on disk and on the wire: this is a bug or a
                    // version mismatch, and applying around it would fork the state machine.
                    stop(because: "undecodable committed entry at \(entry.index)", error: "")
                    return
                }
                if logical.flushesAll {
                    guard flush() else { return }
                    do {
                        try engine.applyFlushAll(sequence: entry.index.rawValue)
                    } catch {
                        stop(because: "applying a flush failed", error: "\(error)")
                        return
                    }
                    if overlayFlushIndex.map({ $0 <= entry.index }) ?? false {
                        overlayFlushIndex = nil
                    }
                }
                for effect in logical.effects {
                    let (key, write) = Self.keyWrite(effect)
                    batch[key] = write
                }
                if !logical.effects.isEmpty { batchLast = entry.index }
            }
            processed.append((entry.index, entry.term))
        }
        guard flush() else { return }
        releaseAppliedWaiters()
    }

    /// Stops the node: a state machine that cannot apply the log must not serve or vote.
    func stop(because reason: String, error: String) {
        logger.critical("stopping: \(reason)", metadata: ["error": "\(error)"])
        isStopped = true
        failEverything(.error("ERR the node stopped: \(reason)"))
    }

    /// The write proposed at `index`, if any, learns its fate: committed with its own term, or
    /// replaced by another leader's entry (then it was never applied).
    func resolvePending(at index: LogIndex, term: Term) {
        guard let pending = pendingWrites[index] else { return }
        guard pending.term == term else {
            pendingWrites[index] = nil
            pending.completion(
                .error(
                    "TRYAGAIN leadership changed before the write committed; it was not applied"),
                0)
            return
        }
        switch pending.ackMode {
        case .majority, .leader:
            // A `leader`-mode write is normally answered once durable on the leader; it is
            // answered here when leadership moved in between.
            pendingWrites[index] = nil
            pending.completion(pending.reply, index.rawValue)
        case .all:
            pendingWrites[index]?.committed = true
            if node.isLeader { committedAllModeIndexes.append(index) }
        }
    }

    /// The leader streamed a snapshot: replace the state machine with it.
    func installSnapshot(_ snapshot: RaftSnapshot) {
        let index = snapshot.metadata.index
        guard index > appliedIndex || LogIndex(engine.sequences.committed) < index else { return }
        guard !snapshot.data.isEmpty else { return }
        guard let state = KeyspaceCatalog.unwrapSnapshot(snapshot.data),
            let puts = StateSnapshotCodec.decode(state.state)
        else {
            stop(because: "the leader's snapshot is damaged", error: "")
            return
        }
        for definition in state.catalog.sorted { applyKeyspace(definition, fromSnapshot: true) }
        do {
            if LogIndex(engine.sequences.committed) < index {
                try engine.restore(
                    puts.map(Self.keyWrite), sequence: index.rawValue,
                    nowMillis: WallClock.nowMillis())
            }
        } catch {
            stop(because: "restoring a snapshot failed", error: "\(error)")
            return
        }
        logger.info(
            "installed snapshot", metadata: ["index": "\(index)", "keys": "\(puts.count)"])
        clearOverlay()
        appliedIndex = max(appliedIndex, index)
        releaseAppliedWaiters()
    }

    /// Leadership changed: a new leader rebuilds the overlay from its unapplied log entries
    /// (it will commit them); anyone else drops it. Parked requests retry.
    func roleChanged(_ softState: RaftSoftState) {
        let now = WallClock.nowMillis()
        if softState.role == .leader || softState.role == .follower {
            lastLeaderChange =
                "term \(softState.term.rawValue) leader \(softState.leader.map(name(of:)) ?? "none")"
            lastElectionMillis = now
        }
        clearOverlay()
        // Writes of an earlier leadership are answered when their entries apply.
        leaderModeIndexes.removeAll()
        committedAllModeIndexes.removeAll()
        if softState.leader != knownLeader {
            // Requests forwarded to the old leader may or may not have reached it; waiting for
            // its answer would hold clients for the whole timeout after a crash.
            knownLeader = softState.leader
            let orphaned = forwardedRequests.values
            forwardedRequests.removeAll()
            for request in orphaned { request.completion(Self.uncertain, 0) }
            // Raft drops ReadIndex requests on a leader change; a read has no effect, so ask
            // the new leader (or wait for one) instead of letting it time out.
            let reads = readIndexRequests.values
            readIndexRequests.removeAll()
            for read in reads {
                readIndex(token: read.token, deadlineMillis: read.deadlineMillis, read.completion)
            }
        }
        if softState.role == .leader {
            logger.info("became leader", metadata: ["term": "\(softState.term)"])
            var index = appliedIndex.next
            while index <= node.lastIndex {
                if let entry = node.entry(at: index), case .normal(let data) = entry.kind,
                    let logical = LogicalEntryCodec.decode(data)
                {
                    addToOverlay(logical, at: index)
                }
                index = index.next
            }
            followerCaughtUpMillis.removeAll()
        }
        if softState.leader != nil {
            let parked = leaderless
            leaderless.removeAll()
            for request in parked { request.retry() }
        }
    }

    /// Records a proposed entry's writes as in flight (read by later writes' evaluation).
    func addToOverlay(_ entry: LogicalEntry, at index: LogIndex) {
        if entry.flushesAll {
            clearOverlay()
            overlayFlushIndex = index
        }
        for effect in entry.effects {
            let (key, write) = Self.keyWrite(effect)
            overlay[key] = write
            overlayIndex[key] = index
        }
    }

    func clearOverlay() {
        overlay.removeAll()
        overlayIndex.removeAll()
        overlayFlushIndex = nil
    }

    /// Takes a snapshot of the state machine and compacts the log once it is long enough.
    /// Only while the engine holds exactly the applied index's state: right after a restart it
    /// may be ahead of the persisted commit index, and a snapshot labelled with the lower
    /// index would then carry later writes.
    ///
    /// The engine's point-in-time view is taken here, on the raft loop, where nothing applies
    /// in between. The slow parts run on background threads at low priority (see
    /// `BackgroundPriority`), so that a large state machine neither stalls heartbeats (which
    /// would trigger elections) nor takes the CPU from clients: encoding the view (reading
    /// every value), then writing and syncing the snapshot file. The raft loop only compacts
    /// the node in memory between the two and puts the file in place at the end. `force` (a
    /// node is being added) does all of it at once, so the new node is seeded from it.
    func maybeCompactLog(force: Bool = false) {
        let applied = node.appliedIndex
        guard applied == appliedIndex, !isSnapshotInProgress else { return }
        guard
            force && applied > node.snapshotIndex
                || applied.rawValue >= node.snapshotIndex.rawValue
                    + UInt64(configuration.snapshotEntries)
        else { return }
        let started = WallClock.monotonicNanos()
        let view = engine.snapshot(nowMillis: 0)
        // The default group's state machine also holds the keyspace catalog.
        let catalog = groupID == 0 ? self.catalog : KeyspaceCatalog()
        if force {
            guard
                let snapshot = compactNode(Self.encodeSnapshot(view, catalog: catalog), at: applied)
            else { return }
            let writer = store.snapshotFileWriter
            installSnapshotFile(
                Result { () throws(StorageError) in try writer.prepare(snapshot) }, at: applied,
                started)
            return
        }
        isSnapshotInProgress = true
        let loop = self.loop
        BackgroundPriority.run(name: "cohort-snapshot") { [self] in
            let data = Self.encodeSnapshot(view, catalog: catalog)
            loop.execute { [self] in snapshotEncoded(data, at: applied, started) }
        }
    }

    static func encodeSnapshot(_ view: StorageSnapshot, catalog: KeyspaceCatalog) -> [UInt8] {
        let state = StateSnapshotCodec.encode(
            view.lazy.map { key, value in
                KeyEffect.put(
                    key: key, value: value.bytes, valueType: value.metadata.type.rawValue,
                    expiresAtMillis: value.metadata.expiresAtMillis)
            })
        return catalog.definitions.isEmpty ? state : catalog.wrapSnapshot(state)
    }

    /// Compacts the node's log in memory through `applied`, with `data` as the snapshot that
    /// replaces it, and returns that snapshot for the disk; nil when the driver stopped or a
    /// newer snapshot (from the leader) arrived meanwhile.
    func compactNode(_ data: [UInt8], at applied: LogIndex) -> RaftSnapshot? {
        guard !isStopped, applied > node.snapshotIndex else { return nil }
        node.compact(upTo: applied, snapshotData: data)
        return node.snapshot
    }

    /// Background snapshot, step 2 (raft loop): compacts the node in memory, then has the file
    /// written and synced off the loop.
    func snapshotEncoded(_ data: [UInt8], at applied: LogIndex, _ startedNanos: UInt64) {
        guard let snapshot = compactNode(data, at: applied) else {
            isSnapshotInProgress = false
            return
        }
        let writer = store.snapshotFileWriter
        let loop = self.loop
        BackgroundPriority.run(name: "cohort-snapwrite") { [self] in
            let result = Result { () throws(StorageError) in try writer.prepare(snapshot) }
            loop.execute { [self] in installSnapshotFile(result, at: applied, startedNanos) }
        }
    }

    /// Last step (raft loop): puts the written snapshot file in place and compacts the log up
    /// to it. A failed write leaves the previous snapshot and the whole log on disk, which is
    /// consistent; the next snapshot tries again.
    func installSnapshotFile(
        _ written: Result<PreparedRaftSnapshot, StorageError>, at applied: LogIndex,
        _ startedNanos: UInt64
    ) {
        isSnapshotInProgress = false
        do {
            let prepared = try written.get()
            if isStopped {
                prepared.discard()
                return
            }
            // Installed, or discarded for a newer one: either way the store's snapshot now
            // covers `applied`.
            try store.installSnapshot(prepared)
            try store.compact(upTo: applied)
            logger.info(
                "snapshot taken, log compacted",
                metadata: [
                    "keyspace": "\(keyspace)", "index": "\(applied)",
                    "bytes": "\(prepared.snapshot.data.count)",
                    "millis": "\((WallClock.monotonicNanos() - startedNanos) / 1_000_000)",
                ])
        } catch {
            guard !isStopped else { return }
            logger.error("saving a snapshot failed", metadata: ["error": "\(error)"])
        }
    }

    func name(of node: NodeID) -> String { names[node] ?? "\(node)" }
}
