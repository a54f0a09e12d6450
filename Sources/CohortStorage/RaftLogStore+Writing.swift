import CohortCore
import CohortRaft

extension RaftLogStore {
    /// Writes and syncs step 1 of `ready`: its snapshot, its entries (the durable log truncated
    /// at the first one's index first) and its hard state. The ready's messages may be sent
    /// when this returns.
    public func persist(_ ready: RaftReady) throws(StorageError) {
        try write(ready)
        try sync()
    }

    /// Writes step 1 of `ready` without the final sync (``sync()`` makes it durable), so that a
    /// driver can cover several readies with one fdatasync. A snapshot is made durable here
    /// already (its file is replaced atomically), before the log records that follow it.
    ///
    /// Throws ``StorageError/valueTooLarge(bytes:max:)`` before writing anything when an entry
    /// or the snapshot exceeds the bounds; any I/O failure leaves the store refusing further
    /// calls.
    public func write(_ ready: RaftReady) throws(StorageError) {
        try checkWritable()
        for entry in ready.entriesToAppend {
            let bytes = RaftLogRecordCodec.payloadBytes(.entry(entry))
            guard bytes <= options.entryBytesMax else {
                throw .valueTooLarge(bytes: bytes, max: options.entryBytesMax)
            }
        }
        if let snapshot = ready.snapshot {
            precondition(
                snapshot.metadata.index >= image.baseIndex,
                "received snapshot \(snapshot.metadata.index) below the log's base"
                    + " \(image.baseIndex)")
        }
        do {
            try writeSnapshotChunks(of: ready)
            try writeRecords(of: ready)
        } catch {
            failure = error
            throw error
        }
    }

    /// Makes everything written so far durable with one fdatasync of the active segment
    /// (segments before it were synced when the next one began).
    public func sync() throws(StorageError) {
        try checkWritable()
        guard hasUnsyncedWrites else { return }
        do {
            try segments.last!.sync()
        } catch {
            failure = error
            throw error
        }
        hasUnsyncedWrites = false
    }

    /// Durably records a snapshot the driver took itself, whose data is `data` (after
    /// ``RaftNode/compact(upTo:snapshotBytes:)``): the snapshot file is replaced atomically and
    /// the entries it covers leave ``entries``; entries after it stay. Their segment files stay
    /// until ``compact(upTo:)``. A snapshot not newer than the current one is ignored.
    ///
    /// This writes and syncs the whole file on the calling thread; a driver that must keep its
    /// thread responsive (or whose state is large) streams the file elsewhere with
    /// ``snapshotFileWriter`` and then calls ``installSnapshot(_:)``.
    public func saveSnapshot(
        _ metadata: RaftSnapshotMetadata, data: [UInt8]
    ) throws(StorageError) {
        try checkWritable()
        guard metadata.index > image.baseIndex else { return }
        let prepared: PreparedRaftSnapshot
        do {
            prepared = try snapshotFileWriter.prepare(metadata, data: data)
        } catch {
            if case .valueTooLarge = error { throw error }
            failure = error
            throw error
        }
        try installSnapshot(prepared)
    }

    /// Writes snapshot files for ``installSnapshot(_:)`` on another thread.
    public var snapshotFileWriter: RaftSnapshotFileWriter {
        RaftSnapshotFileWriter(
            directory: directory, snapshotBytesMax: options.snapshotBytesMax, device: device)
    }

    /// Puts a prepared snapshot file in place (a rename and a directory sync) and drops the
    /// entries it covers from ``entries``, as ``saveSnapshot(_:)`` does. A snapshot not newer
    /// than the current one (a leader's arrived meanwhile) is discarded instead.
    public func installSnapshot(_ prepared: PreparedRaftSnapshot) throws(StorageError) {
        let snapshot = prepared.snapshot
        do {
            try checkWritable()
        } catch {
            prepared.discard()
            throw error
        }
        guard snapshot.metadata.index > image.baseIndex else {
            prepared.discard()
            return
        }
        precondition(
            image.term(at: snapshot.metadata.index).map { $0 == snapshot.metadata.term } ?? true,
            "snapshot \(snapshot.metadata.index)@\(snapshot.metadata.term) contradicts the log's"
                + " term \(image.term(at: snapshot.metadata.index).map { "\($0)" } ?? "-")")
        do {
            try RaftLogFileSystem.publish(
                prepared.temporaryName, as: Self.snapshotFileName, directory: directory,
                device: device)
        } catch {
            failure = error
            throw error
        }
        try adoptSnapshotFile(snapshot, dataOffset: prepared.dataOffset)
        image.adopt(snapshotIndex: snapshot.metadata.index, snapshotTerm: snapshot.metadata.term)
    }

    /// Opens the snapshot file just put in place for reading (trusted: this store wrote it).
    private func adoptSnapshotFile(_ snapshot: RaftSnapshot, dataOffset: Int) throws(StorageError) {
        let handle: any StorageFileHandle
        do {
            handle = try device.open(directory + "/" + Self.snapshotFileName, mode: .read)
        } catch {
            failure = error
            throw error
        }
        latestSnapshotFile = RaftSnapshotFile(
            snapshot: snapshot, handle: handle, dataOffset: dataOffset)
    }

    /// Writes the chunks of a snapshot being received to its temporary file (the first of a
    /// transfer starts it afresh) and, when the ready completes the snapshot, makes the file
    /// durable and puts it in place, before any record that depends on it.
    private func writeSnapshotChunks(of ready: RaftReady) throws(StorageError) {
        for chunk in ready.snapshotChunks {
            if chunk.offset == 0 {
                incomingSnapshot = try RaftSnapshotFileStream(
                    path: directory + "/" + Self.receivedSnapshotTemporaryName,
                    metadata: chunk.metadata, dataBytesMax: options.snapshotBytesMax,
                    device: device)
            }
            // Raft emits a transfer's chunks in order from offset 0 (RaftNode+Snapshot).
            guard let stream = incomingSnapshot, stream.metadata == chunk.metadata,
                stream.dataBytes == chunk.offset
            else {
                throw .failed(
                    "snapshot chunk at \(chunk.offset) does not follow the \(incomingSnapshot?.dataBytes ?? 0) bytes received"
                )
            }
            try stream.append(chunk.bytes)
        }
        guard let snapshot = ready.snapshot else { return }
        guard let stream = incomingSnapshot, stream.metadata == snapshot.metadata,
            stream.dataBytes == snapshot.size
        else {
            throw .failed(
                "received snapshot \(snapshot.metadata.index) of \(snapshot.size) bytes has "
                    + "\(incomingSnapshot?.dataBytes ?? 0) bytes written")
        }
        incomingSnapshot = nil
        _ = try stream.finish()
        // Durable before any record that depends on it; a crash before the log reset is
        // reconciled on open (Raft §7).
        try RaftLogFileSystem.publish(
            Self.receivedSnapshotTemporaryName, as: Self.snapshotFileName, directory: directory,
            device: device)
        try adoptSnapshotFile(snapshot, dataOffset: stream.dataOffset)
    }

    /// The records of one ready, in order: the early hard state (term and vote, commit limited
    /// to what is already written), the log reset of a received snapshot, a truncation marker
    /// when the entries rewrite the log's end, the entries, the full hard state.
    private func writeRecords(of ready: RaftReady) throws(StorageError) {
        var pending = recordBuffer
        recordBuffer = []  // so that `pending` is the buffer's only owner (no copy on write)
        // Handed back (emptied, its capacity kept) for the next ready.
        defer { recordBuffer = pending.capacity <= Self.recordBufferKeptBytesMax ? pending : [] }
        pending.removeAll(keepingCapacity: true)
        var covered = image.lastIndex
        if let snapshot = ready.snapshot { covered = snapshot.metadata.index }
        var entries = ready.entriesToAppend
        let resetIndex = ready.snapshot?.metadata.index ?? image.baseIndex
        // Entries a snapshot already covers are not rewritten (the simulator's disk does the
        // same); the node never truncates below its snapshot.
        if let first = entries.first, first.index <= resetIndex {
            entries.removeAll { $0.index <= resetIndex }
        }
        if let first = entries.first { covered = min(covered, first.index.previous) }
        var earlyHardState: RaftHardState?
        if let hardState = ready.hardState {
            var early = hardState
            early.commitIndex = min(early.commitIndex, covered)
            earlyHardState = early
            try append(.hardState(early), pending: &pending)
        }
        if let snapshot = ready.snapshot {
            try append(
                .logReset(index: snapshot.metadata.index, term: snapshot.metadata.term),
                pending: &pending)
        }
        if let first = entries.first {
            precondition(
                first.index <= image.lastIndex.next,
                "entries from \(first.index) leave a gap after the log's end \(image.lastIndex)")
            if first.index <= image.lastIndex {
                let previousTerm = image.term(at: first.index.previous)!
                try append(
                    .truncation(index: first.index, previousTerm: previousTerm), pending: &pending)
            }
        }
        for entry in entries { try append(.entry(entry), pending: &pending) }
        if let hardState = ready.hardState, hardState != earlyHardState {
            try append(.hardState(hardState), pending: &pending)
        }
        try flush(&pending)
    }

    /// Encodes `record` into `pending`, first starting a new segment when the record would
    /// take the active one past ``RaftLogStoreOptions/segmentBytesMax``.
    private func append(_ record: RaftLogRecord, pending: inout [UInt8]) throws(StorageError) {
        let size = RaftLogRecordCodec.encodedBytes(record)
        let used = activeBytes + pending.count
        if used + size > options.segmentBytesMax, used > activeStartBytes {
            try flush(&pending)
            try startNextSegment()
        }
        RaftLogRecordCodec.encode(record, into: &pending)
        let problem = image.apply(record, segment: segments.last!.id)
        precondition(problem == nil, "writing \(record): \(problem ?? "")")
    }

    /// Writes `pending` at the end of the active segment.
    private func flush(_ pending: inout [UInt8]) throws(StorageError) {
        guard !pending.isEmpty else { return }
        let end = activeBytes + pending.count
        if options.segmentPreallocationBytes > 0, end > activeFileBytes {
            try preallocate(through: end)
        }
        try segments.last!.write(pending, at: activeBytes)
        activeBytes = end
        activeFileBytes = max(activeFileBytes, end)
        hasUnsyncedWrites = true
        pending.removeAll(keepingCapacity: true)
    }

    /// Extends the active segment with zeroes to cover `end` and up to one preallocation
    /// step beyond (within the segment bound). The next sync makes them durable with the
    /// records written over them.
    private func preallocate(through end: Int) throws(StorageError) {
        activeFileBytes = try segments.last!.writeZeroes(
            from: max(activeFileBytes, activeBytes), aheadOf: end,
            step: options.segmentPreallocationBytes, limit: options.segmentBytesMax)
    }

    /// Seals the active segment (cut back to its records, then synced) and starts the next.
    private func startNextSegment() throws(StorageError) {
        let active = segments.last!
        if activeFileBytes > activeBytes {
            try active.truncate(to: activeBytes)
            activeFileBytes = activeBytes
            hasUnsyncedWrites = true
        }
        if hasUnsyncedWrites { try active.sync() }
        hasUnsyncedWrites = false
        let file = try SegmentFile.open(
            directory: directory, id: active.id + 1, kind: .appended, create: true, device: device)
        try RaftLogFileSystem.syncDirectory(directory, device: device)
        segments.append(file)
        activeBytes = 0
        try writeSegmentStart()
    }

    /// Writes and syncs the start records of the (empty) active segment: the log position
    /// before it and the hard state. Synced at once, so that compaction may remove the
    /// segments before it.
    func writeSegmentStart() throws(StorageError) {
        let file = segments.last!
        precondition(activeBytes == 0, "segment start written into \(file.name) at \(activeBytes)")
        let records: [RaftLogRecord] = [
            .segmentStart(
                segmentID: file.id, previousIndex: image.lastIndex, previousTerm: image.lastTerm),
            .hardState(image.hardState),
        ]
        var bytes: [UInt8] = []
        for record in records {
            RaftLogRecordCodec.encode(record, into: &bytes)
            let problem = image.apply(record, segment: file.id)
            precondition(problem == nil, "starting \(file.name): \(problem ?? "")")
        }
        try file.write(bytes, at: 0)
        try file.sync()
        activeBytes = bytes.count
        activeFileBytes = bytes.count
        activeStartBytes = bytes.count
        hasUnsyncedWrites = false
    }
}
