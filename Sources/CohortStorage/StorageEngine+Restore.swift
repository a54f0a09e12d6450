import CohortCore

/// Restoring the whole state from a snapshot, streamed: a keyspace larger than memory can seed
/// a replica.
///
/// Memory: one batch of encoded records and an index entry per key (which the index needs
/// anyway), never the values together. Visibility: the engine's lock is held throughout, so
/// readers see the old state until the new one is whole. Crashes: the records go out as many
/// groups, so a crash part way would leave a clear record and part of the keys; a marker file
/// written (durably) before the first record and removed only after the last is durable makes
/// the next open discard the engine's files instead, and open empty. The caller restores again
/// from its snapshot, which the Raft log keeps until the engine has caught up past it.
extension StorageEngine {
    /// The marker's name in the engine's directory.
    static let restoreMarkerName = "restoring"
    /// Encoded records per appended group while restoring.
    static let restoreBatchBytes = 1 << 20

    /// Replaces the whole state with the puts that `produce` passes to `emit` (deletes are
    /// ignored), under `sequence`, which must be above every sequence written. When `produce`
    /// or a write throws, the engine stops taking writes (its files hold part of a restore)
    /// and the next open starts empty.
    public func restore(
        sequence: UInt64, nowMillis: UInt64,
        _ produce: (_ emit: (_ key: [UInt8], _ write: KeyWrite) throws -> Void) throws -> Void
    ) throws {
        try DurableFile.write(
            [], name: Self.restoreMarkerName, directory: directory, device: device)
        try writing {
            precondition(
                sequence > lastSequence, "restore at \(sequence) not above last \(lastSequence)")
            do {
                try restoreLocked(sequence: sequence, nowMillis: nowMillis, produce)
            } catch {
                failure = .failed("a restore from a snapshot was interrupted: \(error)")
                throw error
            }
        }
        try device.remove(directory + "/" + Self.restoreMarkerName)
        syncDirectory()
    }

    private func restoreLocked(
        sequence: UInt64, nowMillis: UInt64,
        _ produce: (_ emit: (_ key: [UInt8], _ write: KeyWrite) throws -> Void) throws -> Void
    ) throws {
        let timestamp = clock.now(physicalMillis: nowMillis)
        var buffer: [UInt8] = []
        RecordCodec.encode(
            key: [], value: [],
            metadata: VersionMetadata(
                sequence: sequence, timestamp: timestamp, origin: options.origin,
                isTombstone: false, type: .string, expiresAtMillis: 0),
            isClear: true, groupRecords: 1, into: &buffer)
        _ = try appendLocked(buffer, sequence: sequence, deletes: true)
        // The batch being gathered (its values' bytes in `batchBytes`), then every key placed.
        var batch: [(key: [UInt8], value: [UInt8], metadata: VersionMetadata)] = []
        var batchBytes = 0
        var placed: [(key: [UInt8], entry: IndexEntry)] = []
        func flush() throws {
            guard !batch.isEmpty else { return }
            // The records of one batch are one group: they share its count.
            let count = UInt32(batch.count)
            buffer.removeAll(keepingCapacity: true)
            var bounds: [(start: Int, length: Int)] = []
            bounds.reserveCapacity(batch.count)
            for put in batch {
                let start = buffer.count
                RecordCodec.encode(
                    key: put.key, value: put.value, metadata: put.metadata, groupRecords: count,
                    into: &buffer)
                bounds.append((start, buffer.count - start))
            }
            let location = try appendLocked(buffer, sequence: sequence, deletes: false)
            for (put, bound) in zip(batch, bounds) {
                placed.append(
                    (
                        put.key,
                        IndexEntry(
                            segmentID: location.segmentID,
                            offset: UInt64(location.offset + bound.start),
                            recordLength: UInt32(bound.length), metadata: put.metadata)
                    ))
            }
            batch.removeAll(keepingCapacity: true)
            batchBytes = 0
        }
        try produce { key, write in
            guard case .put(let value, let type, let expiresAtMillis) = write else { return }
            try checkSizes(keyCount: key.count, valueCount: value.count)
            let metadata = VersionMetadata(
                sequence: sequence, timestamp: timestamp, origin: options.origin,
                isTombstone: false, type: type, expiresAtMillis: expiresAtMillis)
            batch.append((key, value, metadata))
            batchBytes += key.count + value.count
            if batchBytes >= Self.restoreBatchBytes { try flush() }
        }
        try flush()
        // Durable before the marker goes: rotated segments were synced when sealed.
        try writeAppendTailLocked()
        try segments[activeID]?.file.sync()
        counters.fsyncCount += 1
        clearIndexLocked()
        for (key, entry) in placed {
            index.insert(key, entry)
            addLiveBytesLocked(Int(entry.recordLength), to: entry.segmentID)
        }
        noteCollectionVersionsLocked()
        keyWaiters.takeAll(into: &keyWaitersWoken)
        finishCommitLocked(sequence: sequence, records: placed.count + 1)
        writtenSequence = sequence
        durableSequence = sequence
    }

    /// Before an open: when a restore was interrupted, removes the engine's files (segments,
    /// hints, the index checkpoint) and the marker, and returns their names.
    static func discardInterruptedRestore(
        directory: String, device: any StorageDevice
    ) throws(StorageError) -> [String] {
        let names = try device.contentsOfDirectory(directory)
        guard names.contains(restoreMarkerName) else { return [] }
        var removed: [String] = []
        for name in names
        where SegmentFile.parse(fileName: name) != nil || name == IndexCheckpoint.fileName {
            try device.remove(directory + "/" + name)
            removed.append(name)
        }
        try device.remove(directory + "/" + restoreMarkerName)
        try device.syncDirectory(directory)
        return removed
    }
}
