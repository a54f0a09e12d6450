import CohortCore

extension StorageEngine {
    /// Rejects keys and values over the configured limits.
    func checkSizes(keyCount: Int, valueCount: Int) throws(StorageError) {
        guard keyCount <= options.keyBytesMax else {
            throw .keyTooLarge(bytes: keyCount, max: options.keyBytesMax)
        }
        guard valueCount <= options.valueBytesMax else {
            throw .valueTooLarge(bytes: valueCount, max: options.valueBytesMax)
        }
    }

    /// A transaction's read of the committed state. The caller holds `condition`.
    func readLocked(_ key: [UInt8], nowMillis: UInt64) throws(StorageError) -> StoredValue? {
        guard let entry = index.get(key), !entry.metadata.isExpired(nowMillis: nowMillis) else {
            return nil
        }
        let location = ValueCache.location(segmentID: entry.segmentID, offset: entry.offset)
        if let cached = valueCache.value(at: location) {
            return StoredValue(bytes: cached, metadata: entry.metadata)
        }
        let value = try Self.readValue(
            key: key, entry: entry, file: fileLocked(for: entry), options: options)
        valueCache.insert(value.bytes, at: location)
        return value
    }

    /// The live version's metadata. The caller holds `condition`.
    func metadataLocked(_ key: [UInt8], nowMillis: UInt64) -> VersionMetadata? {
        guard let entry = index.get(key), !entry.metadata.isExpired(nowMillis: nowMillis) else {
            return nil
        }
        return entry.metadata
    }

    /// Whether the index holds any version of `key`. The caller holds `condition`.
    func indexContainsLocked(_ key: [UInt8]) -> Bool {
        index.get(key) != nil
    }

    /// Appends the transaction's writes as one group and applies them to the index, under the
    /// next sequence or, for a replicated apply, the given one (which must be above the last).
    func commitLocked(
        _ transaction: StorageTransaction, nowMillis: UInt64, sequence explicit: UInt64? = nil
    ) throws(StorageError) -> Commit? {
        guard !transaction.writes.isEmpty else { return nil }
        // Key order makes the file contents independent of dictionary order.
        let keys = transaction.writes.keys.sorted { OrderedIndex.compare($0, $1) < 0 }
        var planned: [([UInt8], KeyWrite)] = []
        planned.reserveCapacity(keys.count)
        for key in keys {
            guard let write = transaction.writes[key] else { continue }
            if case .delete = write, index.get(key) == nil { continue }
            planned.append((key, write))
        }
        guard !planned.isEmpty else { return nil }
        precondition(planned.count <= Int(UInt32.max), "\(planned.count) records in one group")
        let sequence = explicit ?? lastSequence + 1
        let timestamp = clock.now(physicalMillis: nowMillis)
        var buffer: [UInt8] = []
        var placements: [(key: [UInt8], offset: Int, length: Int, metadata: VersionMetadata)] = []
        placements.reserveCapacity(planned.count)
        var values: [[UInt8]] = []
        values.reserveCapacity(planned.count)
        for (key, write) in planned {
            let start = buffer.count
            let metadata: VersionMetadata
            switch write {
            case .put(let value, let type, let expiresAtMillis):
                metadata = VersionMetadata(
                    sequence: sequence, timestamp: timestamp, origin: options.origin,
                    isTombstone: false, type: type, expiresAtMillis: expiresAtMillis)
                RecordCodec.encode(
                    key: key, value: value, metadata: metadata,
                    groupRecords: UInt32(planned.count), into: &buffer)
                values.append(value)
            case .delete:
                metadata = VersionMetadata(
                    sequence: sequence, timestamp: timestamp, origin: options.origin,
                    isTombstone: true, type: .string, expiresAtMillis: 0)
                RecordCodec.encode(
                    key: key, value: [], metadata: metadata,
                    groupRecords: UInt32(planned.count), into: &buffer)
                values.append([])
            }
            placements.append((key, start, buffer.count - start, metadata))
        }
        let location = try appendLocked(buffer, sequence: sequence)
        for (position, placement) in placements.enumerated() {
            if placement.metadata.isTombstone {
                if let previous = index.remove(placement.key) { forgetLocked(previous) }
                continue
            }
            let entry = IndexEntry(
                segmentID: location.segmentID, offset: UInt64(location.offset + placement.offset),
                recordLength: UInt32(placement.length), metadata: placement.metadata)
            if let previous = index.insert(placement.key, entry).previous {
                forgetLocked(previous)
            }
            // A value just written is the likeliest to be read next.
            valueCache.insert(
                values[position],
                at: ValueCache.location(segmentID: entry.segmentID, offset: entry.offset))
            segments[location.segmentID]?.liveBytes += placement.length
        }
        finishCommitLocked(sequence: sequence, records: placements.count)
        return Commit(sequence: sequence)
    }
}
