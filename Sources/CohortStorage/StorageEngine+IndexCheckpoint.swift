import CohortCore
import Foundation
import Glibc

extension StorageEngine {
    var indexCheckpointPath: String { directory + "/" + IndexCheckpoint.fileName }

    /// Writes the index checkpoint of a cleanly closed engine (see `IndexCheckpoint`): to a
    /// temporary name, fsynced, renamed, directory fsynced. Failure only costs a slower
    /// restart, so it is not reported as an error.
    func writeIndexCheckpoint(
        index: OrderedIndex, segments: [UInt32: SegmentState], activeID: UInt32,
        nextSegmentID: UInt32, lastSequence: UInt64, clock: HLCTimestamp
    ) {
        let sorted = segments.keys.sorted().compactMap { id -> IndexCheckpoint.Segment? in
            guard let state = segments[id], let checksum = Self.fileChecksum(state) else {
                return nil
            }
            return IndexCheckpoint.Segment(
                id: id, isCompacted: state.file.kind == .compacted, bytes: state.bytes,
                liveBytes: state.liveBytes, sequenceMin: state.sequenceMin,
                sequenceMax: state.sequenceMax, isSealed: state.isSealed,
                isQuarantined: state.isQuarantined, mayHoldDeletions: state.mayHoldDeletions,
                checksum: checksum)
        }
        // A segment whose checksum could not be computed leaves the checkpoint incomplete;
        // the next open then rejects it and recovers fully.
        guard sorted.count == segments.count else { return }
        // Synced once, at the end: the checkpoint is written at a stop, with no log fsyncs to
        // keep short, and a checkpoint that a crash left partial fails its checksum. A failure
        // only costs a slower restart.
        try? RaftLogFileSystem.writeAtomically(
            name: IndexCheckpoint.fileName, directory: directory, syncEvery: nil, device: device
        ) { (write) throws(StorageError) in
            try IndexCheckpoint.encode(
                lastSequence: lastSequence, clock: clock, activeID: activeID,
                nextSegmentID: nextSegmentID, segments: sorted, index: index, write: write)
        }
    }

    /// CRC-32C of a segment's first `bytes` bytes, or nil when it cannot be read.
    static func fileChecksum(_ state: SegmentState) -> UInt32? {
        try? state.file.withMappedBytes(length: state.bytes) { CRC32C.checksum($0) }
    }

    /// Loads the index checkpoint if one exists and still describes the segment files exactly;
    /// returns whether it did. The checkpoint file is deleted (and the deletion made durable)
    /// before this returns either way, so it can never describe a directory that later writes
    /// changed.
    func recoverFromIndexCheckpoint(nowMillis: UInt64) throws(StorageError) -> Bool {
        guard let data = try? RaftLogFileSystem.read(indexCheckpointPath, device: device)
        else { return false }
        try? device.remove(indexCheckpointPath)
        syncDirectory()
        let decoded = data.withUnsafeBytes { raw in
            Result { () throws(IndexCheckpoint.DecodeError) in
                try IndexCheckpoint.decode(raw, keyBytesMax: options.keyBytesMax)
            }
        }
        guard case .success(let checkpoint) = decoded else { return false }
        // The directory must hold exactly the checkpoint's segments, at their recorded sizes.
        let names = (try? device.contentsOfDirectory(directory)) ?? []
        let logIDs = names.compactMap { name -> UInt32? in
            guard let parsed = SegmentFile.parse(fileName: name), parsed.suffix == "log" else {
                return nil
            }
            return parsed.id
        }.sorted()
        guard logIDs == checkpoint.segments.map(\.id),
            checkpoint.segments.contains(where: { $0.id == checkpoint.activeID })
        else { return false }
        var opened: [UInt32: SegmentState] = [:]
        for segment in checkpoint.segments {
            let file = try SegmentFile.open(
                directory: directory, id: segment.id,
                kind: segment.isCompacted ? .compacted : .appended, create: false, device: device)
            guard try file.size() == segment.bytes else { return false }
            let state = SegmentState(
                file: file, bytes: segment.bytes, liveBytes: segment.liveBytes,
                sequenceMin: segment.sequenceMin, sequenceMax: segment.sequenceMax,
                isSealed: segment.isSealed, isQuarantined: segment.isQuarantined,
                mayHoldDeletions: segment.mayHoldDeletions)
            guard Self.fileChecksum(state) == segment.checksum else { return false }
            opened[segment.id] = state
        }
        for slot in checkpoint.slots {
            let entry = slot.entry
            let end = entry.offset.addingReportingOverflow(UInt64(entry.recordLength))
            guard let state = opened[entry.segmentID], !end.overflow,
                end.partialValue <= UInt64(state.bytes)
            else { return false }
        }
        var loaded = KeyIndex(sortedSlots: checkpoint.slots, inParallel: usesThreads)
        // Keys that expired while the node was down leave now, as in a full recovery.
        for slot in checkpoint.slots where slot.entry.metadata.isExpired(nowMillis: nowMillis) {
            loaded.remove(slot.key)
            opened[slot.entry.segmentID]?.liveBytes -= Int(slot.entry.recordLength)
        }
        index = loaded
        segments = opened
        activeID = checkpoint.activeID
        nextSegmentID = checkpoint.nextSegmentID
        lastSequence = checkpoint.lastSequence
        settleSequencesLocked()
        _ = clock.observe(checkpoint.clock, physicalMillis: nowMillis)
        var report = RecoveryReport()
        report.indexCheckpointUsed = true
        report.keysLoaded = index.count
        report.lastSequence = lastSequence
        recovery = report
        return true
    }
}
