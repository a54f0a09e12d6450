import CohortCore
import CohortNode
import CohortRaft
import CohortReplication
import CohortStorage

extension ReplicationDriver {
    /// Applies committed entries to the engine, in order, and answers the writes they carry.
    func apply(_ entries: [RaftEntry]) {
        for entry in entries {
            guard case .normal(let data) = entry.kind else {
                resolvePending(at: entry.index, term: entry.term)
                appliedIndex = max(appliedIndex, entry.index)
                continue
            }
            if entry.index > engineAppliedAtStart {
                guard let logical = LogicalEntryCodec.decode(data) else {
                    // Entries are checksummed on disk and on the wire: this is a bug or a
                    // version mismatch, and applying around it would fork the state machine.
                    logger.critical(
                        "undecodable committed entry; stopping",
                        metadata: ["index": "\(entry.index)"])
                    isStopped = true
                    failEverything(.error("ERR the node stopped on an undecodable log entry"))
                    return
                }
                do {
                    try applyLogical(logical, at: entry.index)
                } catch {
                    logger.critical(
                        "applying a committed entry failed; stopping",
                        metadata: ["index": "\(entry.index)", "error": "\(error)"])
                    isStopped = true
                    failEverything(.error("ERR the node's storage failed: \(error)"))
                    return
                }
            }
            appliedIndex = max(appliedIndex, entry.index)
            resolvePending(at: entry.index, term: entry.term)
        }
        releaseAppliedWaiters()
    }

    func applyLogical(_ logical: LogicalEntry, at index: LogIndex) throws {
        let now = WallClock.nowMillis()
        if logical.flushesAll {
            try engine.applyFlushAll(sequence: index.rawValue)
            if overlayFlushIndex.map({ $0 <= index }) ?? false { overlayFlushIndex = nil }
        } else if !logical.effects.isEmpty {
            var writes: [[UInt8]: KeyWrite] = [:]
            for effect in logical.effects {
                let (key, write) = Self.keyWrite(effect)
                writes[key] = write
            }
            try engine.apply(writes, sequence: index.rawValue, nowMillis: now)
        }
        for effect in logical.effects {
            if let written = overlayIndex[effect.key], written <= index {
                overlayIndex[effect.key] = nil
                overlay[effect.key] = nil
            }
        }
    }

    /// The write proposed at `index`, if any, learns its fate: committed with its own term, or
    /// replaced by another leader's entry (then it was never applied).
    func resolvePending(at index: LogIndex, term: Term) {
        guard var pending = pendingWrites[index] else { return }
        guard pending.term == term else {
            pendingWrites[index] = nil
            pending.completion(
                .error(
                    "TRYAGAIN leadership changed before the write committed; it was not applied"),
                0)
            return
        }
        switch pending.ackMode {
        case .majority:
            pendingWrites[index] = nil
            pending.completion(pending.reply, index.rawValue)
        case .leader:
            // Normally answered once durable on the leader; answered here if leadership moved
            // in between.
            pendingWrites[index] = nil
            pending.completion(pending.reply, index.rawValue)
        case .all:
            pending.committed = true
            pendingWrites[index] = pending
        }
    }

    /// The leader streamed a snapshot: replace the state machine with it.
    func installSnapshot(_ snapshot: RaftSnapshot) {
        let index = snapshot.metadata.index
        guard index > appliedIndex || LogIndex(engine.sequences.committed) < index else { return }
        guard !snapshot.data.isEmpty else { return }
        guard let puts = StateSnapshotCodec.decode(snapshot.data) else {
            logger.critical("damaged snapshot from the leader; stopping")
            isStopped = true
            failEverything(.error("ERR the node stopped on a damaged snapshot"))
            return
        }
        do {
            if LogIndex(engine.sequences.committed) < index {
                try engine.restore(
                    puts.map(Self.keyWrite), sequence: index.rawValue,
                    nowMillis: WallClock.nowMillis())
            }
        } catch {
            logger.critical(
                "restoring a snapshot failed; stopping", metadata: ["error": "\(error)"])
            isStopped = true
            failEverything(.error("ERR the node's storage failed: \(error)"))
            return
        }
        logger.info(
            "installed snapshot", metadata: ["index": "\(index)", "keys": "\(puts.count)"])
        overlay.removeAll()
        overlayIndex.removeAll()
        overlayFlushIndex = nil
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
        overlay.removeAll()
        overlayIndex.removeAll()
        overlayFlushIndex = nil
        if softState.leader != knownLeader {
            // Requests forwarded to the old leader may or may not have reached it; waiting for
            // its answer would hold clients for the whole timeout after a crash.
            knownLeader = softState.leader
            let orphaned = forwardedRequests.values
            forwardedRequests.removeAll()
            for request in orphaned { request.completion(Self.uncertain, 0) }
        }
        if softState.role == .leader {
            logger.info("became leader", metadata: ["term": "\(softState.term)"])
            var index = appliedIndex.next
            while index <= node.lastIndex {
                if let entry = node.entry(at: index), case .normal(let data) = entry.kind,
                    let logical = LogicalEntryCodec.decode(data)
                {
                    if logical.flushesAll {
                        overlay.removeAll()
                        overlayIndex.removeAll()
                        overlayFlushIndex = index
                    }
                    for effect in logical.effects {
                        let (key, write) = Self.keyWrite(effect)
                        overlay[key] = write
                        overlayIndex[key] = index
                    }
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

    /// Takes a snapshot of the state machine and compacts the log once it is long enough.
    func maybeCompactLog() {
        let applied = node.appliedIndex
        guard
            applied.rawValue >= node.snapshotIndex.rawValue + UInt64(configuration.snapshotEntries)
        else { return }
        let started = WallClock.monotonicNanos()
        let view = engine.snapshot(nowMillis: 0)
        let data = StateSnapshotCodec.encode(
            view.lazy.map { key, value in
                KeyEffect.put(
                    key: key, value: value.bytes, valueType: value.metadata.type.rawValue,
                    expiresAtMillis: value.metadata.expiresAtMillis)
            })
        node.compact(upTo: applied, snapshotData: data)
        guard let snapshot = node.snapshot else { return }
        do {
            try store.saveSnapshot(snapshot)
            _ = try store.compact(upTo: applied)
        } catch {
            logger.error("saving a snapshot failed", metadata: ["error": "\(error)"])
            return
        }
        logger.info(
            "snapshot taken, log compacted",
            metadata: [
                "index": "\(applied)", "bytes": "\(data.count)",
                "millis": "\((WallClock.monotonicNanos() - started) / 1_000_000)",
            ])
    }

    func name(of node: NodeID) -> String { names[node] ?? "\(node)" }
}
