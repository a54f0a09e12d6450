import CohortCore
import CohortNode
import CohortRaft
import CohortReplication
import CohortStorage
import Logging

extension ReplicationDriver {
    static let catalogFileName = "keyspaces.catalog"

    /// Drains the group and runs its actions, batch after batch, until it has nothing left.
    func pump() {
        pumpScheduled = false
        while true {
            let actions = group.drain()
            guard !actions.isEmpty else { break }
            var failure: String?
            for action in actions {
                failure = run(action)
                if failure != nil { break }
            }
            group.finishedActions()
            if let failure {
                // The rest of the batch depended on what failed: drop it and stop.
                deferredInputs.removeAll()
                group.stop(because: failure)
                continue
            }
            let inputs = deferredInputs
            deferredInputs.removeAll()
            for input in inputs { input(&group) }
        }
        catalogBox.withLockedValue { $0 = group.catalog }
    }

    /// Runs one action; the failure's description when it failed (then the group stops).
    private func run(_ action: LeaderGroupAction) -> String? {
        switch action {
        case .send(let messages):
            let groupID = self.groupID
            for message in messages { transport.send(message, group: groupID) }
            // Out before this batch's fsync: followers write while the leader does.
            transport.flushQueuedOnCurrentLoop()
        case .forward(let bytes, let peer):
            transport.sendForward(bytes, to: peer, group: groupID)
        case .persist(let id, let ready, let syncs):
            recordDiscardedEntries(replacedBy: ready)
            var failure: String?
            do {
                try store.write(ready)
                if syncs { try store.sync() }
            } catch {
                failure = "\(error)"
            }
            deferredInputs.append { $0.diskCompleted(id, failure: failure) }
        case .syncInBackground(let id):
            startBackgroundSync(id)
        case .apply(let writes, let sequence):
            do {
                try engine.apply(
                    writes, sequence: sequence.rawValue, nowMillis: WallClock.nowMillis())
            } catch {
                return "applying committed entries failed: \(error)"
            }
        case .applyFlushAll(let sequence):
            do {
                try engine.applyFlushAll(sequence: sequence.rawValue)
            } catch {
                return "applying a flush failed: \(error)"
            }
        case .restore(let puts, let sequence):
            do {
                try engine.restore(
                    puts.map(\.keyWrite), sequence: sequence.rawValue,
                    nowMillis: WallClock.nowMillis())
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
                    bytes, name: Self.catalogFileName, directory: configuration.dataDirectory)
            } catch {
                // Forgetting a keyspace would fork this node from the others: stop instead.
                return "saving the keyspace catalog failed: \(error)"
            }
        case .keyspaceDefined(let definition):
            catalogBox.withLockedValue { $0 = group.catalog }
            onKeyspaceDefined?(definition)
        case .peerLearned(_, let id, let endpoint):
            savePeers()
            if id != nodeID {
                transport.addPeer(
                    id, address: PeerAddress(host: endpoint.host, port: endpoint.port))
            }
        case .takeSnapshot(let index, let catalog, let urgent):
            takeSnapshot(at: index, catalog: catalog, urgent: urgent)
        case .saveSnapshot(let snapshot, let urgent):
            saveSnapshot(snapshot, urgent: urgent)
        case .leftGroup:
            onLeftKeyspace?()
        case .stopped(_, let reply):
            isStopped = true
            tickTask?.cancel()
            tickTask = nil
            let writes = writeCompletions.values
            writeCompletions.removeAll()
            for completion in writes { completion(reply, 0) }
            let reads = readCompletions.values
            readCompletions.removeAll()
            for completion in reads { completion(.refused(reply)) }
        case .log(let level, let message, let metadata):
            var fields: Logger.Metadata = ["node": "\(configuration.nodeName)"]
            for (key, value) in metadata { fields[key] = "\(value)" }
            switch level {
            case .info: logger.info("\(message)", metadata: fields)
            case .warning: logger.warning("\(message)", metadata: fields)
            case .error: logger.error("\(message)", metadata: fields)
            case .critical: logger.critical("\(message)", metadata: fields)
            }
        }
        return nil
    }

    /// Starts the fsync of what the log store wrote without one, on `syncQueue`; the group
    /// learns when it ends (at once when a synchronous sync covered it already).
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
        let loop = self.loop
        syncQueue.async { [self] in
            let failure = sync.run()
            loop.execute { [self] in
                var description: String?
                do {
                    try store.finishSync(sync, error: failure)
                } catch {
                    description = "\(error)"
                }
                group.backgroundSyncCompleted(id, failure: description)
                pump()
            }
        }
    }

    /// Takes the engine's point-in-time view now (nothing applies in between) and encodes it:
    /// at once when urgent, else on a background thread at low priority (see
    /// `BackgroundPriority`), so a large state machine neither stalls heartbeats nor takes the
    /// CPU from clients.
    private func takeSnapshot(at index: LogIndex, catalog: KeyspaceCatalog, urgent: Bool) {
        let view = engine.snapshot(nowMillis: 0)
        if urgent {
            let data = Self.encodeSnapshot(view, catalog: catalog)
            deferredInputs.append { $0.snapshotEncoded(data, at: index, urgent: true) }
            return
        }
        let loop = self.loop
        BackgroundPriority.run(name: "cohort-snapshot") { [self] in
            let data = Self.encodeSnapshot(view, catalog: catalog)
            loop.execute { [self] in
                group.snapshotEncoded(data, at: index)
                pump()
            }
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

    /// Writes and syncs the snapshot file (off the loop unless urgent), then, on the loop,
    /// puts it in place and compacts the log up to it.
    private func saveSnapshot(_ snapshot: RaftSnapshot, urgent: Bool) {
        let writer = store.snapshotFileWriter
        let started = WallClock.monotonicNanos()
        if urgent {
            let result = Result { () throws(StorageError) in try writer.prepare(snapshot) }
            installSnapshotFile(result, snapshot: snapshot, started)
            return
        }
        let loop = self.loop
        BackgroundPriority.run(name: "cohort-snapwrite") { [self] in
            let result = Result { () throws(StorageError) in try writer.prepare(snapshot) }
            loop.execute { [self] in
                installSnapshotFile(result, snapshot: snapshot, started)
                pump()
            }
        }
    }

    private func installSnapshotFile(
        _ written: Result<PreparedRaftSnapshot, StorageError>, snapshot: RaftSnapshot,
        _ startedNanos: UInt64
    ) {
        let index = snapshot.metadata.index
        var failure: String?
        do {
            let prepared = try written.get()
            if isStopped {
                prepared.discard()
                return
            }
            // Installed, or discarded for a newer one: either way the store's snapshot now
            // covers `index`.
            try store.installSnapshot(prepared)
            try store.compact(upTo: index)
            logger.info(
                "snapshot saved",
                metadata: [
                    "keyspace": "\(keyspace)", "index": "\(index)",
                    "millis": "\((WallClock.monotonicNanos() - startedNanos) / 1_000_000)",
                ])
        } catch {
            failure = "\(error)"
        }
        let bytes = snapshot.data.count
        if batchIsRunning {
            deferredInputs.append { $0.snapshotSaved(at: index, bytes: bytes, failure: failure) }
        } else {
            group.snapshotSaved(at: index, bytes: bytes, failure: failure)
        }
    }

    /// Whether a batch of the group's actions is running now (inputs must wait for its end).
    var batchIsRunning: Bool { group.isRunningBatch }

    /// The catalog saved in `directory`; empty when there is none. A damaged file is fatal:
    /// serving without keyspaces the cluster has would answer for data this node lost.
    static func loadCatalog(directory: String) throws -> KeyspaceCatalog {
        guard let bytes = try DurableFile.read(name: catalogFileName, directory: directory) else {
            return KeyspaceCatalog()
        }
        guard let catalog = KeyspaceCatalog.decode(bytes) else {
            throw StorageError.failed("the keyspace catalog in \(directory) is damaged")
        }
        return catalog
    }
}
