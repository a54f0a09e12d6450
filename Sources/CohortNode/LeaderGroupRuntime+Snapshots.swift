import CohortCore
import CohortRaft
import CohortReplication
import CohortStorage

/// Snapshots stream from disk to disk: the engine's point-in-time view goes into the snapshot
/// file piece by piece, a leader's chunks are read from that file as they are sent, a
/// follower's chunks are written to a file as they arrive (by the Raft log store), and the
/// engine is restored from the file key by key. No snapshot is ever held in memory, so a
/// keyspace larger than memory can seed a replica.
extension LeaderGroupRuntime {
    /// Streams the engine's point-in-time view (taken now: nothing applies in between) into a
    /// snapshot file labelled `metadata`: at once when urgent, else off the group's thread, so
    /// a large state machine neither stalls heartbeats nor takes the CPU from clients. Then,
    /// on the group's thread, puts it in place and compacts the durable log.
    func takeSnapshot(_ metadata: RaftSnapshotMetadata, catalog: KeyspaceCatalog, urgent: Bool) {
        let view = engine.snapshot(nowMillis: 0)
        let writer = store.snapshotFileWriter
        let write = { @Sendable () -> Result<PreparedRaftSnapshot, StorageError> in
            Result { () throws(StorageError) in
                try Self.writeSnapshot(view, catalog: catalog, metadata: metadata, to: writer)
            }
        }
        if urgent {
            let (snapshot, failure) = installSnapshotFile(write(), metadata: metadata)
            deferredInputs.append { $0.snapshotSaved(snapshot, failure: failure) }
            return
        }
        environment.offload(.snapshot) { [self] in
            let written = write()
            return { [self] in
                let (snapshot, failure) = installSnapshotFile(written, metadata: metadata)
                group.snapshotSaved(snapshot, failure: failure)
            }
        }
    }

    /// Writes `view` (after `catalog`'s prefix) through `writer` as the snapshot `metadata`,
    /// durably, piece by piece.
    static func writeSnapshot(
        _ view: StorageSnapshot, catalog: KeyspaceCatalog, metadata: RaftSnapshotMetadata,
        to writer: RaftSnapshotFileWriter
    ) throws(StorageError) -> PreparedRaftSnapshot {
        let stream = try writer.begin(metadata)
        var failure: StorageError?
        func emit(_ bytes: [UInt8]) {
            guard failure == nil, !bytes.isEmpty else { return }
            do {
                try stream.append(bytes)
            } catch {
                failure = error
            }
        }
        emit(catalog.snapshotPrefix())
        var encoder = StateSnapshotEncoder(sink: emit)
        for (key, value) in view {
            if failure != nil { break }
            encoder.add(
                key: key, value: value.bytes, valueType: value.metadata.type.rawValue,
                expiresAtMillis: value.metadata.expiresAtMillis)
        }
        encoder.finish()
        if let failure {
            writer.abandon(stream)
            throw failure
        }
        return try writer.finish(stream)
    }

    /// Puts a written snapshot file in place and compacts the log; the snapshot and the
    /// failure, if any.
    private func installSnapshotFile(
        _ written: Result<PreparedRaftSnapshot, StorageError>, metadata: RaftSnapshotMetadata
    ) -> (RaftSnapshot, String?) {
        do {
            let prepared = try written.get()
            if isStopped {
                prepared.discard()
                return (prepared.snapshot, "the group stopped")
            }
            // Installed, or discarded for a newer one: either way the store's snapshot now
            // covers its index.
            try store.installSnapshot(prepared)
            try store.compact(upTo: metadata.index)
            return (prepared.snapshot, nil)
        } catch {
            return (RaftSnapshot(metadata: metadata, size: 0), "\(error)")
        }
    }

    /// `messages` with the data of their snapshot chunks read from the store's snapshot
    /// file. A chunk of a snapshot the store no longer holds (replaced meanwhile), or one that
    /// cannot be read, is dropped: the leader resends from where the follower is.
    func filledSnapshotChunks(_ messages: [RaftMessage]) -> [RaftMessage] {
        guard
            messages.contains(where: {
                if case .installSnapshotRequest(let request) = $0.body {
                    request.needsData
                } else {
                    false
                }
            })
        else { return messages }
        var filled: [RaftMessage] = []
        filled.reserveCapacity(messages.count)
        for var message in messages {
            if case .installSnapshotRequest(var request) = message.body, request.needsData {
                let data: [UInt8]?
                do {
                    data = try store.readSnapshotData(
                        of: request.metadata, offset: request.offset, count: request.chunkLength)
                } catch {
                    onLog?(.error, "reading a snapshot chunk failed", ["error": "\(error)"])
                    continue
                }
                guard let data, data.count == request.chunkLength else { continue }
                request.chunk = data
                message.body = .installSnapshotRequest(request)
            }
            filled.append(message)
        }
        return filled
    }

    /// The catalog a received snapshot's data starts with (empty when none), read from the
    /// store's file.
    func receivedSnapshotCatalog(_ snapshot: RaftSnapshot) throws -> KeyspaceCatalog {
        guard let file = store.snapshotFile, file.snapshot.metadata == snapshot.metadata else {
            throw StorageError.failed("the received snapshot is not in the Raft log store")
        }
        var source = SnapshotByteSource(file.dataPieces())
        guard let catalog = try KeyspaceCatalog.readSnapshotPrefix(&source) else {
            throw StorageError.failed("the leader's snapshot is damaged (its keyspace catalog)")
        }
        return catalog
    }

    /// Replaces `engine`'s state with the snapshot `metadata` that `store` holds, streamed key
    /// by key (see `StorageEngine.restore(sequence:nowMillis:_:)` for what a crash or a
    /// damaged file leaves).
    static func restore(
        _ engine: StorageEngine, from store: RaftLogStore, metadata: RaftSnapshotMetadata,
        nowMillis: UInt64
    ) throws {
        guard let file = store.snapshotFile, file.snapshot.metadata == metadata else {
            throw StorageError.failed(
                "the snapshot at \(metadata.index) is not in the Raft log store")
        }
        var source = SnapshotByteSource(file.dataPieces())
        guard try KeyspaceCatalog.readSnapshotPrefix(&source) != nil else {
            throw StorageError.failed("the snapshot at \(metadata.index) is damaged")
        }
        var decoder = StateSnapshotDecoder(source)
        try engine.restore(sequence: metadata.index.rawValue, nowMillis: nowMillis) { emit in
            while let effect = try decoder.next() {
                let (key, write) = effect.keyWrite
                try emit(key, write)
            }
        }
    }
}
