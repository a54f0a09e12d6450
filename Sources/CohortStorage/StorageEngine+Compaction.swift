import CohortPrefetch
import Foundation
import Glibc

extension StorageEngine {
    /// Bytes of compaction output buffered before each write, and synced after it. Syncing a
    /// megabyte at a time keeps the output from piling up as dirty pages that one final
    /// fdatasync then flushes all at once: with ext4's ordered journal, the Raft log's own
    /// fdatasyncs waited behind such a flush for 100-300 ms (measured under a write load).
    static let compactionWriteBufferBytesMax = 1 << 20
    /// Records whose liveness compaction looks up per hold of the engine lock.
    static let compactionLookupBatch = 1_024
    /// Keys prefetched together by `lookUpLocked`: enough for their misses to overlap, few
    /// enough that the first are still cached when probed.
    static let compactionPrefetchRun = 32
    /// Index entries walked per hold of the engine lock when a compaction finds live records
    /// from the index (a few hundred microseconds).
    static let compactionWalkBatch = 4_096

    /// True when the sealed segments that qualify by their dead fraction hold enough dead
    /// bytes together to be worth rewriting (`StorageOptions.compactionGarbageBytesMin`).
    func hasCompactionCandidate() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        var garbage = 0
        for state in segments.values where isCandidateLocked(state) {
            garbage += state.bytes - state.liveBytes
        }
        return garbage > 0 && garbage >= compactionGarbageBytesMin
    }

    /// The index entries of `records`' keys, in order, prefetched a run at a time as a
    /// pipeline's lookups are. The serving threads wait for the lock meanwhile: probed one by
    /// one, each lookup of a mostly dead segment's records waited for its cache misses in turn.
    /// The caller holds `condition`.
    func lookUpLocked(_ records: ArraySlice<HintEntry>) -> [IndexEntry?] {
        var entries: [IndexEntry?] = []
        entries.reserveCapacity(records.count)
        var keys: [[UInt8]] = []
        keys.reserveCapacity(Self.compactionPrefetchRun)
        var start = records.startIndex
        while start < records.endIndex {
            let end = min(start + Self.compactionPrefetchRun, records.endIndex)
            keys.removeAll(keepingCapacity: true)
            for position in start..<end { keys.append(records[position].key) }
            index.prefetch(keys)
            for position in start..<end { entries.append(index.get(records[position].key)) }
            start = end
        }
        return entries
    }

    /// The dead bytes that make the background thread compact.
    var compactionGarbageBytesMin: Int {
        options.compactionGarbageBytesMin ?? options.segmentBytesMax / 4
    }

    func isCandidateLocked(_ state: SegmentState) -> Bool {
        state.isSealed && !state.isQuarantined && state.bytes > 0
            && state.garbageRatio >= options.compactionGarbageRatioMin
            && !holdsOnlyRecordOfLastSequenceLocked(state)
    }

    /// Recovery learns the last sequence from the records it finds. Normally the newest
    /// record sits in the active segment, but after a rotation whose first append failed (or
    /// was torn off by a crash) the active segment is empty and the newest records are in the
    /// last sealed segment; if they are deletion markers, compaction could drop them and the
    /// last sequence with them (under replication that sequence is the applied log index).
    /// Such a segment waits until the active segment holds a record.
    func holdsOnlyRecordOfLastSequenceLocked(_ state: SegmentState) -> Bool {
        state.sequenceMax == lastSequence && (segments[activeID]?.bytes ?? 0) == 0
    }

    /// Rewrites the live records of sealed segments with at least
    /// `compactionGarbageRatioMin` dead bytes into one new segment (with its hint), moves index
    /// entries that still point at the copied records, and unlinks the old segments (readers and
    /// snapshots holding them keep their descriptors until they finish). Reads and writes
    /// continue meanwhile: copying runs outside the lock.
    ///
    /// Liveness is read from the live index a batch of records at a time (a hash lookup each),
    /// not from a snapshot of the tree: a record found dead stays dead (no write ever points
    /// the index back at an old record), and one found live is moved only if the index still
    /// points at it when the moves are made. Taking a tree snapshot instead cost a tree lookup
    /// per record (three quarters of compaction's CPU) and started a new index generation,
    /// after which every overwrite copied a tree path instead of updating its slot in place.
    ///
    /// Resurrection (Bitcask): a deletion marker, or an expired version that acts as one, is
    /// dropped only when no segment outside this run holds a sequence below it (so no older
    /// version of the key can remain anywhere) or when a newer version of the key is live;
    /// otherwise it is kept as a deletion marker. `nowMillis` defaults to the system clock.
    ///
    /// Damage: a scanned segment with corruption is skipped (`segmentsSkipped`) and the rest
    /// compacted; a record found damaged while it is copied (which is when records found from
    /// the index are checked) ends the run with `.corrupt` and nothing changed, and its segment
    /// is left alone from then on. Either way the segment is quarantined until a restart.
    public func compact(nowMillis: UInt64? = nil) throws -> CompactionReport {
        compactionLock.lock()
        defer { compactionLock.unlock() }
        let now = nowMillis ?? Self.wallClockMillis()
        var report = CompactionReport()
        // The walk's and the copy's buffers are free once it ends: give their pages back.
        defer {
            if report.bytesBefore >= Self.trimAfterSegmentBytesMin { cohort_release_free_memory() }
        }

        condition.lock()
        do {
            try checkWritableLocked()
        } catch {
            condition.unlock()
            throw error
        }
        var chosen: [SegmentState] = []
        var liveTotal = 0
        for state in segments.values.sorted(by: { $0.file.id < $1.file.id })
        where isCandidateLocked(state) {
            if !chosen.isEmpty && liveTotal + state.liveBytes > options.segmentBytesMax { break }
            chosen.append(state)
            liveTotal += state.liveBytes
        }
        guard !chosen.isEmpty else {
            condition.unlock()
            return report
        }
        let outputID = nextSegmentID
        nextSegmentID += 1
        var allSequenceMins: [UInt32: UInt64] = [:]
        for (id, state) in segments {
            if let sequenceMin = state.sequenceMin { allSequenceMins[id] = sequenceMin }
        }
        condition.unlock()

        // A candidate that may hold deletions is scanned for every record; the others' live
        // records come from the index, which costs a step per key instead of a decoded record
        // per record ever written (a mostly dead 64 MiB segment of small values holds a million
        // records, and scanning it took a second of CPU). A segment with corruption is left
        // alone for inspection.
        let fromIndex = Set(chosen.lazy.filter { !$0.mayHoldDeletions }.map(\.file.id))
        let indexed = try liveRecords(in: fromIndex)
        var scans: [(state: SegmentState, records: [HintEntry])] = []
        for state in chosen {
            let records: [HintEntry]?
            if fromIndex.contains(state.file.id) {
                records = indexed[state.file.id] ?? []
                report.segmentsFromIndex += 1
            } else {
                let scan = try state.file.withMappedBytes(length: state.bytes) { bytes in
                    SegmentScanner.scan(
                        bytes, keyBytesMax: options.keyBytesMax,
                        valueBytesMax: options.valueBytesMax)
                }
                records = scan.corruptions.isEmpty && scan.tail == nil ? scan.records : nil
            }
            if let records {
                scans.append((state, records))
            } else {
                report.segmentsSkipped.append(state.file.name)
                condition.lock()
                segments[state.file.id]?.isQuarantined = true
                condition.unlock()
            }
        }
        let compactedIDs = Set(scans.map { $0.state.file.id })
        let outsideSequenceMin =
            allSequenceMins.filter { !compactedIDs.contains($0.key) }.values.min() ?? .max

        let output = try SegmentFile.open(
            directory: directory, id: outputID, kind: .compacted, create: true, device: device)
        let temporaryPath = output.path + ".tmp"
        // Written under a temporary name: recovery deletes it if we crash before the rename.
        do throws(StorageError) {
            try device.rename(output.path, to: temporaryPath)
        } catch {
            try? device.remove(output.path)
            throw error
        }
        var buffer: [UInt8] = []
        var written = 0
        var hintEntries: [HintEntry] = []
        var moves: [(key: [UInt8], from: IndexEntry, to: IndexEntry)] = []
        var expiredLive: [(key: [UInt8], segmentID: UInt32, offset: UInt64)] = []
        // Kept deletion markers count as live in the new segment, so that it does not qualify
        // for compaction again at once (which would rewrite the same markers forever).
        var markerBytes = 0
        do throws(StorageError) {
            for (state, records) in scans {
                report.bytesBefore += state.bytes
                try state.file.withMappedBytes(length: state.bytes) {
                    (bytes) throws(StorageError) in
                    var currents: [IndexEntry?] = []
                    for (number, record) in records.enumerated() {
                        let batchPosition = number % Self.compactionLookupBatch
                        if batchPosition == 0 {
                            let batch = records[
                                number..<min(number + Self.compactionLookupBatch, records.count)]
                            condition.lock()
                            if isClosed {
                                condition.unlock()
                                throw .closed
                            }
                            currents = lookUpLocked(batch)
                            condition.unlock()
                        }
                        let current = currents[batchPosition]
                        let isLive =
                            current?.segmentID == state.file.id && current?.offset == record.offset
                        if isLive && record.metadata.isExpired(nowMillis: now) {
                            // Not copied as a value: its index entry leaves with the segment.
                            expiredLive.append(
                                (record.key, state.file.id, record.offset))
                        }
                        guard
                            let metadata = survivingMetadata(
                                record, isLive: isLive, current: current,
                                outsideSequenceMin: outsideSequenceMin, nowMillis: now)
                        else { continue }
                        let start = Int(record.offset)
                        let end = start + Int(record.recordLength)
                        // Records found from the index are checked here, as they are copied:
                        // one that does not decode whole, with its key and sequence, leaves
                        // the segment quarantined, as a damaged scan does.
                        func damaged(_ reason: String) -> StorageError {
                            condition.lock()
                            segments[state.file.id]?.isQuarantined = true
                            condition.unlock()
                            return .corrupt(file: state.file.name, offset: start, reason: reason)
                        }
                        guard end <= bytes.count else {
                            throw damaged("record runs past the end of the segment")
                        }
                        let recordBytes = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
                        let decoded: DecodedRecord
                        do throws(RecordDecodeError) {
                            decoded = try RecordCodec.decode(
                                recordBytes, keyBytesMax: options.keyBytesMax,
                                valueBytesMax: options.valueBytesMax)
                        } catch {
                            throw damaged(error.description)
                        }
                        guard decoded.recordLength == recordBytes.count,
                            decoded.metadata.sequence == record.metadata.sequence,
                            recordBytes[decoded.keyRange].elementsEqual(record.key)
                        else { throw damaged("record does not match its index entry") }
                        let offset = written + buffer.count
                        let value =
                            metadata.isTombstone || record.isClear
                            ? UnsafeRawBufferPointer(start: nil, count: 0)
                            : UnsafeRawBufferPointer(rebasing: recordBytes[decoded.valueRange])
                        // Regrouped as single records: the transaction was whole when copied.
                        RecordCodec.encode(
                            key: record.key, value: value, metadata: metadata,
                            isClear: record.isClear, groupRecords: 1, into: &buffer)
                        let length = written + buffer.count - offset
                        let entry = HintEntry(
                            key: record.key, metadata: metadata, isClear: record.isClear,
                            offset: UInt64(offset), recordLength: UInt32(length))
                        hintEntries.append(entry)
                        if metadata.isTombstone || record.isClear {
                            report.tombstonesKept += 1
                            markerBytes += length
                        } else {
                            report.recordsCopied += 1
                            moves.append(
                                (
                                    record.key,
                                    IndexEntry(
                                        segmentID: state.file.id, offset: record.offset,
                                        recordLength: record.recordLength,
                                        metadata: record.metadata),
                                    IndexEntry(
                                        segmentID: outputID, offset: UInt64(offset),
                                        recordLength: UInt32(length), metadata: metadata)
                                ))
                        }
                        if buffer.count >= Self.compactionWriteBufferBytesMax {
                            try output.write(buffer, at: written)
                            written += buffer.count
                            buffer.removeAll(keepingCapacity: true)
                            // Synced as it goes (see compactionWriteBufferBytesMax).
                            try output.sync()
                        }
                    }
                }
                if isClosedSnapshot() { throw .closed }
            }
            try output.write(buffer, at: written)
            written += buffer.count
            try output.sync()
        } catch {
            try? device.remove(temporaryPath)
            throw error
        }
        report.bytesAfter = written

        var outputState = SegmentState(
            file: output, bytes: written, isSealed: true, mayHoldDeletions: false)
        for entry in hintEntries {
            outputState.include(sequence: entry.metadata.sequence)
            if entry.actsAsDeletion { outputState.mayHoldDeletions = true }
        }
        if written > 0 {
            writeHint(file: output, entries: hintEntries)
            do throws(StorageError) {
                try device.rename(temporaryPath, to: output.path)
            } catch {
                try? device.remove(temporaryPath)
                try? device.remove(output.hintPath)
                throw error
            }
            syncDirectory()
            report.segmentWritten = output.name
        } else {
            try? device.remove(temporaryPath)
        }

        condition.lock()
        if isClosed {
            condition.unlock()
            // The new segment duplicates live records; recovery resolves duplicates by sequence.
            throw StorageError.closed
        }
        if written > 0 {
            outputState.liveBytes = markerBytes
            outputState.markerBytes = markerBytes
            segments[outputID] = outputState
        }
        for (position, move) in moves.enumerated() {
            if position > 0 && position % compactionMovesPerLock == 0 {
                // Lets writers and readers in: a large run moves hundreds of thousands of
                // entries, and holding the lock for all of them stalled every write for
                // hundreds of milliseconds. Safe to interleave: each move checks that the
                // entry still points at the copied record, the old segments stay readable
                // until the end, and only compaction (serialised by `compactionLock`) removes
                // segments.
                let pause = compactionPauseForTesting
                condition.unlock()
                pause?()
                condition.lock()
                if isClosed {
                    condition.unlock()
                    throw StorageError.closed
                }
            }
            guard let current = index.get(move.key), current.segmentID == move.from.segmentID,
                current.offset == move.from.offset
            else { continue }
            index.insert(move.key, move.to)
            forgetLocked(current)
            segments[outputID]?.liveBytes += Int(move.to.recordLength)
            report.entriesMoved += 1
        }
        for expired in expiredLive {
            guard let current = index.get(expired.key), current.segmentID == expired.segmentID,
                current.offset == expired.offset
            else { continue }
            index.remove(expired.key)
            forgetLocked(current)
        }
        for (state, _) in scans {
            // What is left is the deletion markers an earlier compaction kept here (no index
            // entry points to them).
            let left = segments[state.file.id].map { $0.liveBytes - $0.markerBytes } ?? -1
            precondition(left == 0, "compacted \(state.file.name) still has \(left) live bytes")
            segments[state.file.id] = nil
        }
        counters.compactions += 1
        counters.bytesReclaimed += report.bytesReclaimed
        condition.unlock()

        // The records left behind may be the only durable copies of their keys: the versions
        // that superseded them may still wait in the append tail or the page cache, and a crash
        // after the unlinks would lose both (found by the simulated disk's crash tests). The
        // files stay when this fails; recovery resolves their duplicates by sequence.
        try syncCommitsBeforeUnlinking()

        // Oldest first, so that a crash midway never leaves an older version without the newer
        // segment that deleted it.
        for (state, _) in scans.sorted(by: {
            ($0.state.sequenceMin ?? 0) < ($1.state.sequenceMin ?? 0)
        }) {
            try? device.remove(state.file.path)
            try? device.remove(state.file.hintPath)
            report.segmentsCompacted.append(state.file.name)
        }
        syncDirectory()
        return report
    }

    /// The live records of the segments `ids`, in file order, found by walking the index a
    /// batch of keys per hold of the engine lock. Complete: a record live throughout the walk
    /// keeps its key in the tree, and each batch resumes after the last key seen, so keys
    /// inserted or removed meanwhile cannot hide it. A record overwritten meanwhile is found or
    /// not; either way the copy rechecks liveness and the moves skip what was overwritten.
    private func liveRecords(in ids: Set<UInt32>) throws(StorageError) -> [UInt32: [HintEntry]] {
        var found: [UInt32: [HintEntry]] = [:]
        guard !ids.isEmpty else { return found }
        var cursor: [UInt8]?
        repeat {
            condition.lock()
            defer { condition.unlock() }
            if isClosed { throw .closed }
            cursor = walkIndexLocked(after: cursor, collecting: ids, into: &found)
        } while cursor != nil
        for id in found.keys { found[id]?.sort { $0.offset < $1.offset } }
        return found
    }

    /// Walks up to `compactionWalkBatch` index entries after `cursor`, collecting those in
    /// `ids`' segments; returns the last key walked, or nil at the end of the index. The
    /// iterator, which holds tree nodes, is gone before the caller lets writers in (a writer
    /// would otherwise copy every node it shares).
    private func walkIndexLocked(
        after cursor: [UInt8]?, collecting ids: Set<UInt32>,
        into found: inout [UInt32: [HintEntry]]
    ) -> [UInt8]? {
        var iterator = index.makeIterator(after: cursor)
        var last: [UInt8]?
        for _ in 0..<Self.compactionWalkBatch {
            guard let (key, entry) = iterator.next() else { return nil }
            last = key
            if ids.contains(entry.segmentID) {
                found[entry.segmentID, default: []].append(
                    HintEntry(
                        key: key, metadata: entry.metadata, isClear: false, offset: entry.offset,
                        recordLength: entry.recordLength))
            }
        }
        return last
    }

    /// Makes every commit so far durable (the append tail written, the active segment synced)
    /// before compaction unlinks the segments it rewrote; waits for an fsync in flight first.
    private func syncCommitsBeforeUnlinking() throws(StorageError) {
        condition.lock()
        while syncInFlight && !isStopping { condition.wait() }
        if let failure {
            condition.unlock()
            throw failure
        }
        guard durableSequence < lastSequence, !isClosed else {
            condition.unlock()
            return
        }
        syncInFlight = true
        let ready = syncActiveLocked()
        syncInFlight = false
        let failed = failure
        condition.unlock()
        for (waiter, result) in ready { waiter.completion(result) }
        if let failed { throw failed }
    }

    private func isClosedSnapshot() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return isClosed
    }

    /// The metadata a record keeps in the compacted segment, or nil to drop it.
    private func survivingMetadata(
        _ record: HintEntry, isLive: Bool, current: IndexEntry?, outsideSequenceMin: UInt64,
        nowMillis: UInt64
    ) -> VersionMetadata? {
        let sequence = record.metadata.sequence
        // Could an older version of the key survive elsewhere? Only in a segment outside this
        // run that holds a lower sequence.
        let olderMayExist = outsideSequenceMin < sequence
        if record.isClear { return olderMayExist ? record.metadata : nil }
        let actsAsDeletion =
            record.metadata.isTombstone || record.metadata.isExpired(nowMillis: nowMillis)
        if !actsAsDeletion { return isLive ? record.metadata : nil }
        if let current, current.metadata.sequence > sequence { return nil }
        guard olderMayExist else { return nil }
        var marker = record.metadata
        marker.isTombstone = true
        marker.expiresAtMillis = 0
        return marker
    }
}
