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
        guard let slot = index.slot(key) else { return nil }
        return try readLocked(slot: slot, key: key, nowMillis: nowMillis)
    }

    /// `readLocked` of a slot the caller found (walking the tree, or drawing from it). The key
    /// is needed only on a miss of the value cache (to verify the record read from disk): it is
    /// `key` when the caller has it as an array, else copied out of the slot then. The caller
    /// holds `condition`.
    func readLocked(
        slot: IndexSlot, key: [UInt8]? = nil, nowMillis: UInt64
    ) throws(StorageError) -> StoredValue? {
        let entry = slot.entry
        guard !entry.metadata.isExpired(nowMillis: nowMillis) else { return nil }
        if let cached = valueCache.value(of: slot) {
            return StoredValue(bytes: cached, metadata: entry.metadata)
        }
        let value = try Self.readValue(
            key: key ?? slot.key, entry: entry, from: valueSourceLocked(for: entry),
            options: options)
        valueCache.insert(value.bytes, of: slot, readFrom: entry)
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
        guard !transaction.isEmpty else { return nil }
        var planned = transaction.writesInKeyOrder()
        planned.removeAll { planned in
            if case .delete = planned.write { return index.get(planned.key) == nil }
            return false
        }
        guard !planned.isEmpty else { return nil }
        precondition(planned.count <= Int(UInt32.max), "\(planned.count) records in one group")
        let sequence = explicit ?? lastSequence + 1
        let timestamp = clock.now(physicalMillis: nowMillis)
        let groupRecords = UInt32(planned.count)
        var groupBytes = 0
        var deletes = false
        for (key, write) in planned {
            groupBytes += RecordCodec.recordLength(
                keyCount: key.count, valueCount: write.value.count)
            if write.actsAsDeletion { deletes = true }
        }
        let location = try appendLocked(bytes: groupBytes, sequence: sequence, deletes: deletes) {
            buffer in
            for (key, write) in planned {
                RecordCodec.encode(
                    key: key, value: write.value,
                    metadata: metadata(of: write, sequence, timestamp),
                    groupRecords: groupRecords, into: &buffer)
            }
        }
        // The records lie back to back in key order, so their offsets follow from their lengths.
        var offset = location.offset
        // Live bytes of the group's segment, summed here and added once.
        var liveDelta = 0
        for (key, write) in planned {
            let value = write.value
            let length = RecordCodec.recordLength(keyCount: key.count, valueCount: value.count)
            defer { offset += length }
            guard case .put = write else {
                if let previous = index.remove(key) { forgetLocked(previous) }
                continue
            }
            let entry = IndexEntry(
                segmentID: location.segmentID, offset: UInt64(offset),
                recordLength: UInt32(length), metadata: metadata(of: write, sequence, timestamp))
            if EngineKey.isInternal(key), let version = EngineKey.parseElement(key)?.version {
                collectionVersionHigh = max(collectionVersionHigh, version)
            }
            let placed = index.insert(key, entry)
            if let previous = placed.previous {
                if previous.segmentID == location.segmentID {
                    liveDelta -= Int(previous.recordLength)
                } else {
                    forgetLocked(previous)
                }
            }
            // A value just written is the likeliest to be read next.
            valueCache.insert(value, of: placed.slot, readFrom: entry)
            liveDelta += length
        }
        addLiveBytesLocked(liveDelta, to: location.segmentID)
        if !keyWaiters.isEmpty {
            keyWaitersWoken += takeWaitersLocked(
                of: planned.lazy.filter { !$0.write.actsAsDeletion }.map(\.key))
        }
        finishCommitLocked(sequence: sequence, records: planned.count)
        return Commit(sequence: sequence)
    }

    /// The metadata of the version `write` creates.
    private func metadata(
        of write: KeyWrite, _ sequence: UInt64, _ timestamp: HLCTimestamp
    ) -> VersionMetadata {
        switch write {
        case .put(_, let type, let expiresAtMillis):
            return VersionMetadata(
                sequence: sequence, timestamp: timestamp, origin: options.origin,
                isTombstone: false, type: type, expiresAtMillis: expiresAtMillis)
        case .delete:
            return VersionMetadata(
                sequence: sequence, timestamp: timestamp, origin: options.origin,
                isTombstone: true, type: .string, expiresAtMillis: 0)
        }
    }

    /// An empty buffer to encode a commit into: the engine keeps one between commits, so that a
    /// commit does not allocate one. The caller holds `condition`.
    func takeAppendBuffer() -> [UInt8] {
        var buffer: [UInt8] = []
        swap(&buffer, &appendBuffer)
        buffer.removeAll(keepingCapacity: true)
        return buffer
    }

    /// Gives the buffer back for the next commit, unless a large commit made it large.
    func returnAppendBuffer(_ buffer: inout [UInt8]) {
        if buffer.capacity <= Self.appendBufferKeptBytesMax { swap(&buffer, &appendBuffer) }
    }
}

extension KeyWrite {
    /// The value a put writes; empty for a deletion.
    var value: [UInt8] {
        if case .put(let value, _, _) = self { return value }
        return []
    }
}
