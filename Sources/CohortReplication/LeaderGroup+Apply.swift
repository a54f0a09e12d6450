import CohortCore
import CohortRaft

extension LeaderGroup {
    /// Applies committed entries, in order, and answers the writes they carry. Consecutive
    /// key-value entries are merged (the last write of each key wins, in log order) and
    /// applied as one atomic group under the last one's index: one append and one index update
    /// per key per ready instead of one per entry. Writes are answered only after their group
    /// is applied, so a reply never precedes what it promises.
    mutating func apply(_ entries: [RaftEntry]) {
        guard !entries.isEmpty else { return }
        var batch: [[UInt8]: KeyWrite] = [:]
        var batchLast: LogIndex?
        var processed: [(index: LogIndex, term: Term)] = []

        func flush(_ group: inout LeaderGroup) {
            if let last = batchLast, !batch.isEmpty {
                group.actions.append(.apply(batch, sequence: last))
                group.engineSequence = max(group.engineSequence, last)
                // Followers have no overlay: nothing to look up.
                if !group.overlayIndex.isEmpty {
                    for key in batch.keys {
                        if let written = group.overlayIndex[key], written <= last {
                            group.overlayIndex[key] = nil
                            group.overlay[key] = nil
                        }
                    }
                }
            }
            batch.removeAll(keepingCapacity: true)
            batchLast = nil
            for (index, term) in processed {
                group.appliedIndex = max(group.appliedIndex, index)
                group.resolvePending(at: index, term: term)
            }
            processed.removeAll(keepingCapacity: true)
        }

        for entry in entries {
            appliedBytesSinceSnapshot += UInt64(entry.sizeBytes)
            guard case .normal(let data) = entry.kind else {
                processed.append((entry.index, entry.term))
                continue
            }
            if data.first == MemberEntry.tag {
                flush(&self)
                if let member = MemberEntry.decode(data) {
                    applyMember(member, at: entry.index)
                } else {
                    log(.error, "skipping an undecodable member entry", ["index": "\(entry.index)"])
                }
                processed.append((entry.index, entry.term))
                continue
            }
            if data.first == KeyspaceDefinition.tag {
                flush(&self)
                switch KeyspaceDefinition.decodeVersioned(data) {
                case .definition(let definition):
                    applyKeyspace(definition)
                    if isStopped { return }
                case .unsupported:
                    // Written by a newer node: kept as it is (in the catalog's file and
                    // snapshots) and reported, not fatal; this node serves the rest.
                    if let unsupported = UnsupportedKeyspaceEntry(decoding: data) {
                        keepUnsupportedKeyspace(unsupported, at: entry.index)
                        if isStopped { return }
                    }
                case .malformed:
                    return stop(because: "undecodable keyspace entry at \(entry.index)")
                }
                processed.append((entry.index, entry.term))
                continue
            }
            if entry.index > engineAppliedAtStart {
                guard let logical = LogicalEntryCodec.decode(data) else {
                    // Entries are checksummed on disk and on the wire: this is a bug or a
                    // version mismatch, and applying around it would fork the state machine.
                    return stop(because: "undecodable committed entry at \(entry.index)")
                }
                if logical.flushesAll {
                    flush(&self)
                    actions.append(.applyFlushAll(sequence: entry.index))
                    engineSequence = max(engineSequence, entry.index)
                    if overlayFlushIndex.map({ $0 <= entry.index }) ?? false {
                        overlayFlushIndex = nil
                    }
                }
                for effect in logical.effects {
                    let (key, write) = effect.keyWrite
                    batch[key] = write
                }
                if !logical.effects.isEmpty { batchLast = entry.index }
            }
            processed.append((entry.index, entry.term))
        }
        flush(&self)
        releaseAppliedWaiters()
    }

    /// The write proposed at `index`, if any, learns its fate: committed with its own term, or
    /// replaced by another leader's entry (then it was never applied).
    mutating func resolvePending(at index: LogIndex, term: Term) {
        guard let pending = pendingWrites[index] else { return }
        guard pending.term == term else {
            pendingWrites[index] = nil
            answer(
                pending.target,
                .error(
                    "TRYAGAIN leadership changed before the write committed; it was not applied"),
                token: .zero)
            return
        }
        switch pending.ackMode {
        case .majority, .leader:
            // A `leader`-mode write is normally answered once durable on the leader; it is
            // answered here when leadership moved in between.
            pendingWrites[index] = nil
            answer(pending.target, pending.reply, token: index)
        case .all:
            pendingWrites[index]?.committed = true
            if raft.isLeader { committedAllModeIndexes.append(index) }
        }
    }

    /// The leader streamed a snapshot (now in the Raft log store, whose catalog prefix the
    /// host read: `catalog`): replace the state machine with it.
    mutating func installSnapshot(_ snapshot: RaftSnapshot, catalog: KeyspaceCatalog) {
        let index = snapshot.metadata.index
        guard index > appliedIndex || engineSequence < index else { return }
        // A witness's snapshot has no data (witnesses keep none).
        guard snapshot.size > 0 else { return }
        for definition in catalog.sorted {
            applyKeyspace(definition, fromSnapshot: true)
            if isStopped { return }
        }
        if engineSequence < index {
            actions.append(.restoreSnapshot(snapshot.metadata))
            engineSequence = index
        }
        log(.info, "installed snapshot", ["index": "\(index)", "bytes": "\(snapshot.size)"])
        appliedBytesSinceSnapshot = 0
        lastSnapshotBytes = snapshot.size
        clearOverlay()
        appliedIndex = max(appliedIndex, index)
        releaseAppliedWaiters()
    }
}
