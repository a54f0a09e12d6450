import CohortCore
import CohortRaft
import CohortReplication
import CohortStorage

extension LeaderGroupRuntime {
    /// Runs one action; the failure's description when it failed (then the group stops).
    func run(_ action: LeaderGroupAction) -> String? {
        switch action {
        case .send(let messages):
            environment.send(filledSnapshotChunks(messages), group: group.groupID)
        case .forward(let bytes, let peer):
            environment.forward(bytes, to: peer, group: group.groupID)
        case .persist(let id, let ready, let syncs):
            recordDiscardedEntries(replacedBy: ready)
            var failure: String?
            var catalog: KeyspaceCatalog?
            do {
                try store.write(ready)
                if syncs { try store.sync() }
                if let snapshot = ready.snapshot, snapshot.size > 0 {
                    catalog = try receivedSnapshotCatalog(snapshot)
                }
            } catch {
                failure = "\(error)"
            }
            deferredInputs.append {
                $0.diskCompleted(id, failure: failure, snapshotCatalog: catalog)
            }
        case .syncInBackground(let id):
            startBackgroundSync(id)
        case .apply(let writes, let sequence):
            do {
                try engine.apply(
                    writes, sequence: sequence.rawValue, nowMillis: environment.now().wallMillis)
            } catch {
                return "applying committed entries failed: \(error)"
            }
        case .applyFlushAll(let sequence):
            do {
                try engine.applyFlushAll(sequence: sequence.rawValue)
            } catch {
                return "applying a flush failed: \(error)"
            }
        case .restoreSnapshot(let metadata):
            do {
                try Self.restore(
                    engine, from: store, metadata: metadata,
                    nowMillis: environment.now().wallMillis)
            } catch {
                return "restoring a snapshot failed: \(error)"
            }
        case .reply(let id, let reply, let token):
            writeCompletions.removeValue(forKey: id)?(reply, token.rawValue)
        case .readGate(let id, let gate):
            readCompletions.removeValue(forKey: id)?(gate)
        case .saveCatalog(let bytes):
            do {
                try DurableFile.write(
                    bytes, name: Self.catalogFileName, directory: dataDirectory,
                    device: store.options.device)
            } catch {
                // Forgetting a keyspace would fork this node from the others: stop instead.
                return "saving the keyspace catalog failed: \(error)"
            }
            onCatalogSaved?(group.catalog)
        case .keyspaceDefined(let definition):
            onKeyspaceDefined?(definition)
        case .peerLearned(_, let id, let endpoint, let admittedAt):
            onPeersChanged?(group.knownPeers)
            if id != group.nodeID {
                environment.addPeer(id, endpoint: endpoint, admittedAt: admittedAt)
            }
        case .takeSnapshot(let metadata, let catalog, let urgent):
            takeSnapshot(metadata, catalog: catalog, urgent: urgent)
        case .leftGroup:
            // What this node holds beyond what it knew committed will never be replicated from
            // here (found by the simulator: a keyspace's leader removed while holding
            // `leader`-mode writes only it had).
            recordUncommittedEntries(
                after: max(store.hardState.commitIndex, group.raft.commitIndex),
                because: "this node left the group holding an uncommitted write, which the group"
                    + " may or may not hold")
            onLeftGroup?()
        case .stopped(let reason, let reply):
            isStopped = true
            let writes = writeCompletions.sorted { $0.key < $1.key }
            writeCompletions.removeAll()
            for (_, completion) in writes { completion(reply, 0) }
            let reads = readCompletions.sorted { $0.key < $1.key }
            readCompletions.removeAll()
            for (_, completion) in reads { completion(.refused(reply)) }
            onStopped?(reason)
        case .log(let level, let message, let metadata):
            onLog?(level, message, metadata)
        }
        return nil
    }

    /// Starts the fsync of what the log store wrote without one, off the group's thread; the
    /// group learns when it ends (at once when a synchronous sync covered it already).
    private func startBackgroundSync(_ id: DiskOperationID) {
        let sync: RaftLogSync
        do {
            guard let begun = try store.beginSync() else {
                deferredInputs.append { $0.backgroundSyncCompleted(id, failure: nil) }
                return
            }
            sync = begun
        } catch {
            deferredInputs.append { $0.backgroundSyncCompleted(id, failure: "\(error)") }
            return
        }
        environment.offload(.logSync) { [self] in
            let failure = sync.run()
            return { [self] in
                var description: String?
                do {
                    try store.finishSync(sync, error: failure)
                } catch {
                    description = "\(error)"
                }
                group.backgroundSyncCompleted(id, failure: description)
            }
        }
    }

    /// Before the log store overwrites entries a new leader replaced, records the ones that
    /// carried writes in the rollback log.
    func recordDiscardedEntries(replacedBy ready: RaftReady) {
        if let snapshot = ready.snapshot { recordEntriesReplaced(by: snapshot) }
        guard let first = ready.entriesToAppend.first, first.index <= store.lastIndex else {
            return
        }
        let newTerms = Dictionary(
            ready.entriesToAppend.map { ($0.index, $0.term) }, uniquingKeysWith: { $1 })
        var index = first.index
        let now = environment.now().wallMillis
        while index <= store.lastIndex {
            if let old = store.entry(at: index), newTerms[index] != old.term,
                case .normal(let data) = old.kind, let logical = LogicalEntryCodec.decode(data),
                !logical.isEmpty
            {
                do {
                    try rollback.record(
                        index: index, term: old.term, entry: logical, nowMillis: now)
                    onLog?(
                        .warning,
                        "a new leader discarded an uncommitted write; recorded in rollback.log",
                        ["index": "\(index)", "term": "\(old.term)"])
                } catch {
                    onLog?(
                        .error, "could not write rollback.log",
                        ["index": "\(index)", "term": "\(old.term)", "error": "\(error)"])
                }
            }
            index = index.next
        }
    }

    /// A leader's snapshot replaces this node's log when the log does not hold the snapshot's
    /// last entry (Raft §7): the entries above what this node knew committed are dropped
    /// without a new entry naming each index, so they are recorded here. Which of them the
    /// cluster had committed (and the snapshot holds) cannot be told from here: each is
    /// recorded as possibly discarded, and never one this node knew committed.
    private func recordEntriesReplaced(by snapshot: RaftSnapshot) {
        let index = snapshot.metadata.index
        if store.entry(at: index)?.term == snapshot.metadata.term { return }
        recordUncommittedEntries(
            after: store.hardState.commitIndex,
            because: "a leader's snapshot replaced an uncommitted write, which it may or may not"
                + " hold")
    }

    /// Records in the rollback log every entry with writes above `committed` (what this node
    /// knew committed) that its log holds, as possibly discarded: `reason` says why.
    func recordUncommittedEntries(after committed: LogIndex, because reason: String) {
        var next = max(committed.next, store.firstIndex)
        let now = environment.now().wallMillis
        while next <= store.lastIndex {
            defer { next = next.next }
            guard let old = store.entry(at: next), case .normal(let data) = old.kind,
                let logical = LogicalEntryCodec.decode(data), !logical.isEmpty
            else { continue }
            do {
                try rollback.record(index: next, term: old.term, entry: logical, nowMillis: now)
                onLog?(
                    .warning, reason + "; recorded in rollback.log",
                    ["index": "\(next)", "term": "\(old.term)"])
            } catch {
                onLog?(
                    .error, "could not write rollback.log",
                    ["index": "\(next)", "term": "\(old.term)", "error": "\(error)"])
            }
        }
    }
}
