import CohortCore
import CohortPrefetch
import Foundation
import Glibc

extension StorageEngine {
    /// Rebuilds the index from the segments in the directory. Versions are resolved by sequence,
    /// not by file order, so compacted segments (which hold old records under new ids) and
    /// duplicates left by an interrupted compaction need no ordering rules.
    func recover(nowMillis: UInt64) throws(StorageError) {
        if try recoverFromIndexCheckpoint(nowMillis: nowMillis) { return }
        var report = RecoveryReport()
        let names = try device.contentsOfDirectory(directory)
        // Every version loaded, in load order; sorted and resolved once at the end (see
        // `resolveLoaded`). Inserting them into the tree one by one, in file order (random key
        // order for most workloads), took most of a restart: 3.6-4.4 s for a million keys.
        var loaded: [LoadedSegment] = []
        var found: [(id: UInt32, kind: SegmentFile.Kind)] = []
        var hints = Set<String>()
        for name in names {
            // Leftovers of an interrupted compaction or hint write: never renamed into place.
            if name.hasSuffix(".tmp") {
                try? device.remove(directory + "/" + name)
                continue
            }
            guard let parsed = SegmentFile.parse(fileName: name) else { continue }
            if parsed.suffix == "log" {
                found.append((parsed.id, parsed.kind))
            } else if parsed.suffix == "hint" {
                hints.insert(name)
            }
        }
        found.sort { $0.id < $1.id }
        let lastAppended = found.last { $0.kind == .appended }?.id
        var clearSequence: UInt64 = 0
        var timestampMax = HLCTimestamp.zero
        var active: UInt32?
        for (id, kind) in found {
            let file = try SegmentFile.open(
                directory: directory, id: id, kind: kind, create: false, device: device)
            var size = try file.size()
            let hintName = SegmentFile.fileName(id: id, kind: kind, suffix: "hint")
            var entries: [HintEntry]?
            // Damage found now keeps the segment on compaction's scanning path, which leaves a
            // damaged segment alone for inspection.
            var isDamaged = false
            if hints.contains(hintName) {
                entries = loadHint(file: file, fileSize: size)
                if entries == nil {
                    report.hintFilesRejected.append(hintName)
                } else {
                    report.hintFilesUsed += 1
                }
            }
            let isActive = entries == nil && id == lastAppended
            if entries == nil {
                let scan = try file.withMappedBytes(length: size) { bytes in
                    SegmentScanner.scan(
                        bytes, keyBytesMax: options.keyBytesMax,
                        valueBytesMax: options.valueBytesMax)
                }
                report.segmentsScanned += 1
                isDamaged = !scan.corruptions.isEmpty || scan.tail != nil
                report.corruptions += scan.corruptions.map {
                    StorageCorruption(file: file.name, offset: $0.offset, reason: $0.reason)
                }
                if let zeroes = scan.zeroesFrom {
                    // Preallocated space after the last record (a crash before the segment was
                    // cut back): not data and not damage.
                    try file.truncate(to: zeroes)
                    try file.sync()
                    size = zeroes
                }
                if let tail = scan.tail {
                    if isActive {
                        try file.truncate(to: scan.validEnd)
                        try file.sync()
                        report.tornTail = TornTail(
                            file: file.name, offset: scan.validEnd,
                            bytesDropped: size - scan.validEnd, reason: tail.reason)
                        size = scan.validEnd
                    } else {
                        report.corruptions.append(
                            StorageCorruption(
                                file: file.name, offset: tail.offset,
                                reason: "damaged end of a sealed segment: \(tail.reason)"))
                    }
                }
                if !isActive {
                    // A sealed segment without a usable hint: write one for the next restart.
                    writeHint(file: file, entries: scan.records)
                }
                entries = scan.records
            }
            var state = SegmentState(
                file: file, bytes: size, isSealed: !isActive, mayHoldDeletions: isDamaged)
            for entry in entries ?? [] {
                report.recordsLoaded += 1
                let sequence = entry.metadata.sequence
                state.include(sequence: sequence)
                if entry.actsAsDeletion { state.mayHoldDeletions = true }
                lastSequence = max(lastSequence, sequence)
                timestampMax = max(timestampMax, entry.metadata.timestamp)
                if entry.isClear { clearSequence = max(clearSequence, sequence) }
            }
            loaded.append(LoadedSegment(id: id, versions: entries ?? []))
            entries = nil
            segments[id] = state
            if isActive { active = id }
        }
        nextSegmentID = (found.map(\.id).max() ?? 0) + 1
        let (keys, entries, liveBytes) = Self.resolveLoaded(
            consume loaded, clearSequence: clearSequence, nowMillis: nowMillis,
            inParallel: usesThreads)
        for (id, bytes) in liveBytes { segments[id]?.liveBytes += bytes }
        index = KeyIndex(sortedKeys: keys, entries: entries, inParallel: usesThreads)
        if let active {
            activeID = active
            // What was read back may still sit only in the page cache (policy `none`).
            try segments[active]?.file.sync()
        } else {
            let file = try SegmentFile.open(
                directory: directory, id: nextSegmentID, kind: .appended, create: true,
                device: device)
            syncDirectory()
            activeID = nextSegmentID
            segments[activeID] = SegmentState(
                file: file, bytes: 0, isSealed: false, mayHoldDeletions: false)
            nextSegmentID += 1
        }
        _ = clock.observe(timestampMax, physicalMillis: nowMillis)
        settleSequencesLocked()
        report.keysLoaded = index.count
        report.lastSequence = lastSequence
        recovery = report
    }

    /// The live version of every key among the versions loaded from the segments (`loaded`,
    /// in load order), in key order: the highest sequence wins (the first loaded among equal
    /// sequences: an interrupted compaction's duplicates); deletion markers, expired versions
    /// and versions older than the last clear leave nothing. Clear records name no key.
    ///
    /// Sorts small records of each key's 16-byte prefix, not the keys: comparing two keys'
    /// bytes follows two pointers to random places in memory, and a sort of a million keys that
    /// way was no faster than the tree inserts it replaced. Bytes are compared only when two
    /// prefixes tie. The sort runs on two threads (`sortInParallel`), and the winning keys are
    /// moved out of `loaded`, not copied: a copy retains the key, which reads its memory, and
    /// in key order that memory is all over the heap.
    static func resolveLoaded(
        _ loaded: consuming [LoadedSegment], clearSequence: UInt64, nowMillis: UInt64,
        inParallel: Bool = true
    ) -> (keys: [[UInt8]], entries: [IndexEntry], liveBytes: [(id: UInt32, bytes: Int)]) {
        // Consumed, so that moving keys out never copies a whole array of versions first.
        var segments = consume loaded
        precondition(segments.count < 1 << 23, "\(segments.count) segments")
        var order: [LoadedVersion] = []
        order.reserveCapacity(segments.reduce(0) { $0 + $1.versions.count })
        for segment in segments.indices {
            for index in segments[segment].versions.indices
            where !segments[segment].versions[index].isClear {
                order.append(
                    LoadedVersion(
                        prefix: KeyPrefix(segments[segment].versions[index].key),
                        sequence: segments[segment].versions[index].metadata.sequence,
                        position: LoadedVersion.position(segment: segment, index: index)))
            }
        }
        // By prefix, newest first, then load order: integers only, so the comparison inlines.
        sortInParallel(&order, inParallel: inParallel)
        // Versions whose prefixes tie need their keys' bytes: each run of one prefix is sorted
        // again, by key first. Runs are short unless many keys share their first 16 bytes.
        var runStart = 0
        while runStart < order.count {
            var runEnd = runStart + 1
            while runEnd < order.count && order[runEnd].prefix == order[runStart].prefix {
                runEnd += 1
            }
            if runEnd - runStart > 1 {
                order[runStart..<runEnd].sort { a, b in
                    let byKey = OrderedIndex.compare(
                        a.version(in: segments).key, b.version(in: segments).key)
                    return byKey != 0 ? byKey < 0 : a < b
                }
            }
            runStart = runEnd
        }
        var keys: [[UInt8]] = []
        var entries: [IndexEntry] = []
        keys.reserveCapacity(order.count)
        entries.reserveCapacity(order.count)
        // In key order the versions are read all over their arrays: each read would wait for
        // memory, so the version `prefetchDistance` places ahead is prefetched. The arrays are
        // not reallocated below (keys are swapped out in place of uniquely held arrays), so
        // their base addresses stay valid; a prefetch could not fault even if they did not.
        let bases = segments.map { segment in
            segment.versions.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
        }
        let prefetchDistance = 16
        var liveBytes = [Int](repeating: 0, count: segments.count)
        var next = 0
        while next < order.count {
            if next + prefetchDistance < order.count {
                let ahead = order[next + prefetchDistance].segmentAndIndex
                if let base = bases[ahead.segment] {
                    cohort_prefetch(base + ahead.index * MemoryLayout<HintEntry>.stride)
                }
            }
            let first = order[next]
            next += 1
            // The key's older versions follow it; they share its prefix and bytes.
            while next < order.count && order[next].prefix == first.prefix
                && OrderedIndex.compare(
                    order[next].version(in: segments).key, first.version(in: segments).key) == 0
            {
                next += 1
            }
            let (segment, index) = first.segmentAndIndex
            // Field by field: copying the whole version would retain its key.
            let metadata = segments[segment].versions[index].metadata
            if metadata.isTombstone || metadata.isExpired(nowMillis: nowMillis)
                || metadata.sequence < clearSequence
            {
                continue
            }
            var key: [UInt8] = []
            swap(&key, &segments[segment].versions[index].key)
            keys.append(consume key)
            liveBytes[segment] += Int(segments[segment].versions[index].recordLength)
            entries.append(
                IndexEntry(
                    segmentID: segments[segment].id,
                    offset: segments[segment].versions[index].offset,
                    recordLength: segments[segment].versions[index].recordLength,
                    metadata: metadata))
        }
        return (keys, entries, segments.indices.map { (segments[$0].id, liveBytes[$0]) })
    }

    /// The versions of one segment, as its hint file or a scan of it gave them.
    struct LoadedSegment {
        var id: UInt32
        var versions: [HintEntry]
    }

    /// One loaded version as `resolveLoaded` sorts it: its key's prefix, its sequence and
    /// where it was loaded (segment and index, in load order, packed in one integer).
    struct LoadedVersion: Comparable {
        var prefix: KeyPrefix
        var sequence: UInt64
        var position: Int

        /// By prefix, then newest first, then load order (the first loaded of equal copies).
        @inline(__always)
        static func < (a: LoadedVersion, b: LoadedVersion) -> Bool {
            if a.prefix.high != b.prefix.high { return a.prefix.high < b.prefix.high }
            if a.prefix.low != b.prefix.low { return a.prefix.low < b.prefix.low }
            return a.sequence != b.sequence ? a.sequence > b.sequence : a.position < b.position
        }

        static func position(segment: Int, index: Int) -> Int { segment << 40 | index }

        var segmentAndIndex: (segment: Int, index: Int) {
            (position >> 40, position & (1 << 40 - 1))
        }

        @inline(__always)
        func version(in segments: [LoadedSegment]) -> HintEntry {
            let (segment, index) = segmentAndIndex
            return segments[segment].versions[index]
        }
    }

    /// Sorts `order`, its two halves on two threads and then merged. Small inputs sort on the
    /// calling thread, and so does everything when not `inParallel`.
    static func sortInParallel(_ order: inout [LoadedVersion], inParallel: Bool = true) {
        let count = order.count
        guard count >= 1 << 16 && inParallel else {
            order.sort()
            return
        }
        let middle = count / 2
        order.withUnsafeMutableBufferPointer { buffer in
            let halves = ParallelWork.Unchecked(buffer)
            _ = ParallelWork.both(
                {
                    var low = UnsafeMutableBufferPointer(rebasing: halves.value[0..<middle])
                    low.sort()
                },
                {
                    var high = UnsafeMutableBufferPointer(rebasing: halves.value[middle..<count])
                    high.sort()
                })
        }
        var merged: [LoadedVersion] = []
        merged.reserveCapacity(count)
        var low = 0
        var high = middle
        while low < middle && high < count {
            if order[high] < order[low] {
                merged.append(order[high])
                high += 1
            } else {
                merged.append(order[low])
                low += 1
            }
        }
        merged.append(contentsOf: order[low..<middle])
        merged.append(contentsOf: order[high..<count])
        order = merged
    }

    /// The entries of a segment's hint file, or nil when it is missing, corrupt or inconsistent
    /// with the segment (the caller then scans the segment).
    func loadHint(file: SegmentFile, fileSize: Int) -> [HintEntry]? {
        guard let data = try? RaftLogFileSystem.read(file.hintPath, device: device) else {
            return nil
        }
        let result = data.withUnsafeBytes { raw in
            Result { () throws(HintDecodeError) in
                try HintCodec.decode(raw, keyBytesMax: options.keyBytesMax)
            }
        }
        guard case .success(let decoded) = result else { return nil }
        guard decoded.segmentID == file.id else { return nil }
        for entry in decoded.entries {
            let end = entry.offset.addingReportingOverflow(UInt64(entry.recordLength))
            guard !end.overflow, end.partialValue <= UInt64(fileSize),
                Int(entry.recordLength) >= RecordCodec.headerBytes + entry.key.count,
                !entry.isClear || entry.key.isEmpty
            else { return nil }
        }
        return decoded.entries
    }

    /// Writes the hint file of a sealed segment: to a temporary name, fsynced, then renamed.
    /// Failure only costs a scan at the next restart, so it is not reported.
    func writeHint(file: SegmentFile, entries: [HintEntry]) {
        writeFileAtomically(
            HintCodec.encode(segmentID: file.id, entries: entries),
            named: SegmentFile.fileName(id: file.id, kind: file.kind, suffix: "hint"))
    }

    /// Replaces `name` in the engine's directory with `bytes` as the Raft log replaces its
    /// files (``RaftLogFileSystem/writeAtomically(_:name:directory:)``: synced a megabyte at a
    /// time, renamed, directory synced). For files whose loss only costs a slower restart
    /// (hints; the index checkpoint is streamed, see `writeIndexCheckpoint`), so a failure is
    /// not reported.
    func writeFileAtomically(_ bytes: [UInt8], named name: String) {
        try? RaftLogFileSystem.writeAtomically(
            bytes, name: name, directory: directory, device: device)
    }

    /// Writes the hint files of segments sealed since the last call, scanning each (outside the
    /// lock; sealed segments no longer change).
    ///
    /// A segment that background compaction is about to rewrite waits instead: its hint would
    /// cost a scan of the whole segment and be deleted with it moments later (the rewritten
    /// segment gets a hint of its own). Under steady overwrites that is most sealed segments,
    /// and the scan was a quarter of the background thread's CPU. It is dropped from the list
    /// once compacted; if it stops being a candidate first, it gets its hint then.
    func writePendingHints() {
        condition.lock()
        var pending: [SegmentState] = []
        var waiting: [UInt32] = []
        for id in pendingHintSegments {
            guard let state = segments[id] else { continue }
            if backgroundStarted && options.compactsAutomatically && isCandidateLocked(state) {
                waiting.append(id)
            } else {
                pending.append(state)
            }
        }
        pendingHintSegments = waiting
        condition.unlock()
        for state in pending {
            guard
                let scan = try? state.file.withMappedBytes(
                    length: state.bytes,
                    { bytes in
                        SegmentScanner.scan(
                            bytes, keyBytesMax: options.keyBytesMax,
                            valueBytesMax: options.valueBytesMax)
                    })
            else { continue }
            writeHint(file: state.file, entries: scan.records)
        }
        // A segment's scan and hint (tens of megabytes, on this thread's allocator arena) are
        // free again: give their pages back rather than keep them resident.
        if pending.reduce(0, { $0 + $1.bytes }) >= Self.trimAfterSegmentBytesMin {
            cohort_release_free_memory()
        }
    }
}
