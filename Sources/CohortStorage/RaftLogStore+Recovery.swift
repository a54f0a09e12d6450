import CohortCore
import CohortRaft

extension RaftLogStore {
    /// Rebuilds the image from the snapshot file and the segments; see
    /// ``open(directory:options:)``.
    func recover() throws(StorageError) {
        var report = RaftLogRecovery()
        var segmentIDs: [UInt32] = []
        var hasSnapshot = false
        for name in try RaftLogFileSystem.list(directory, device: device) {
            if name == Self.snapshotFileName { hasSnapshot = true }
            if name.hasSuffix(".tmp") {
                // An interrupted atomic write: never renamed into place.
                try RaftLogFileSystem.remove(name, directory: directory, device: device)
                report.temporaryFilesRemoved.append(name)
                continue
            }
            if let parsed = SegmentFile.parse(fileName: name), parsed.kind == .appended,
                parsed.suffix == "log"
            {
                segmentIDs.append(parsed.id)
            }
        }
        segmentIDs.sort()
        if hasSnapshot {
            latestSnapshotFile = try RaftSnapshotFile.open(
                path: directory + "/" + Self.snapshotFileName, device: device,
                dataBytesMax: options.snapshotBytesMax)
        }
        var files: [SegmentFile] = []
        for id in segmentIDs {
            files.append(
                try SegmentFile.open(
                    directory: directory, id: id, kind: .appended, create: false, device: device))
        }
        var lastSize = 0
        var lastHoldsRecords = false
        var cutAtCorruption = false
        var position = 0
        while position < files.count {
            let file = files[position]
            let size = try file.size()
            let scan = try file.withMappedBytes(length: size) { bytes in
                Self.scan(bytes, payloadBytesMax: options.entryBytesMax)
            }
            report.segmentsScanned += 1
            var damage = scan.damage.map { (offset: $0.offset, reason: $0.reason) }
            var isTorn = scan.damage.map { !$0.validRecordFollows } ?? false
            var appliedRecords = 0
            for (index, (record, offset)) in scan.records.enumerated() {
                var problem: String?
                if case .segmentStart = record {
                    if index != 0 { problem = "segment start in the middle of a segment" }
                } else if index == 0 {
                    problem = "segment does not begin with its start record"
                }
                problem = problem ?? image.apply(record, segment: file.id)
                if let problem {
                    damage = (offset, problem)
                    isTorn = false
                    break
                }
                appliedRecords += 1
            }
            report.recordsRead += appliedRecords
            lastSize = size
            lastHoldsRecords = appliedRecords > 0
            if let damage {
                if isTorn && position == files.count - 1 {
                    try file.truncate(to: damage.offset)
                    try file.sync()
                    report.tornTail = TornTail(
                        file: file.name, offset: damage.offset,
                        bytesDropped: size - damage.offset, reason: damage.reason)
                    lastSize = damage.offset
                } else {
                    let reason =
                        isTorn ? "damaged end of a sealed segment: \(damage.reason)" : damage.reason
                    guard options.corruptionPolicy == .truncate else {
                        throw .corrupt(file: file.name, offset: damage.offset, reason: reason)
                    }
                    report.corruptions.append(
                        StorageCorruption(file: file.name, offset: damage.offset, reason: reason))
                    try file.truncate(to: damage.offset)
                    try file.sync()
                    for later in files[(position + 1)...] {
                        try RaftLogFileSystem.remove(
                            later.name, directory: directory, device: device)
                        report.segmentsDiscarded.append(later.name)
                    }
                    try RaftLogFileSystem.syncDirectory(directory, device: device)
                    files.removeSubrange((position + 1)...)
                    lastSize = damage.offset
                    cutAtCorruption = true
                }
            }
            position += 1
        }
        try reconcileWithSnapshot(
            report: &report, cutAtCorruption: cutAtCorruption, firstSegment: files.first?.name)
        segments = files
        if let last = files.last, lastHoldsRecords {
            // What was read back may still sit only in the page cache.
            try last.sync()
            activeBytes = lastSize
            activeFileBytes = lastSize
            activeStartBytes = 0
        } else {
            if files.last == nil {
                let id = (segmentIDs.last ?? 0) + 1
                segments.append(
                    try SegmentFile.open(
                        directory: directory, id: id, kind: .appended, create: true, device: device)
                )
                try RaftLogFileSystem.syncDirectory(directory, device: device)
            } else {
                try segments.last!.truncate(to: 0)
            }
            activeBytes = 0
            try writeSegmentStart()
        }
        recovery = report
    }

    /// Makes the replayed log start after the snapshot (Raft §7) and checks that the hard
    /// state's commit index lies within the log.
    private func reconcileWithSnapshot(
        report: inout RaftLogRecovery, cutAtCorruption: Bool, firstSegment: String?
    ) throws(StorageError) {
        let snapshotIndex = latestSnapshot?.metadata.index ?? .zero
        let snapshotTerm = latestSnapshot?.metadata.term ?? .zero
        guard image.baseIndex <= snapshotIndex else {
            // Entries between the snapshot and the oldest segment are missing: nothing a cut
            // could repair.
            throw .corrupt(
                file: firstSegment ?? Self.snapshotFileName, offset: 0,
                reason: "the log starts after \(image.baseIndex) but the snapshot ends at"
                    + " \(snapshotIndex)")
        }
        report.entriesReplacedBySnapshot = image.adopt(
            snapshotIndex: snapshotIndex, snapshotTerm: snapshotTerm)
        let commitIndex = image.hardState.commitIndex
        if commitIndex > image.lastIndex {
            guard cutAtCorruption else {
                throw .corrupt(
                    file: Self.snapshotFileName, offset: 0,
                    reason: "commit index \(commitIndex) beyond the log's end \(image.lastIndex)")
            }
            report.commitIndexLoweredFrom = commitIndex
            image.limitCommit(to: image.lastIndex)
        }
    }

    /// Decodes the records of one segment in order, stopping at the first that does not decode.
    /// `validRecordFollows` tells a torn tail (nothing valid after the damage: an incomplete
    /// final write) from damage in the middle.
    static func scan(
        _ bytes: UnsafeRawBufferPointer, payloadBytesMax: Int
    ) -> (
        records: [(record: RaftLogRecord, offset: Int)],
        damage: (offset: Int, reason: String, validRecordFollows: Bool)?
    ) {
        var records: [(record: RaftLogRecord, offset: Int)] = []
        var offset = 0
        while offset < bytes.count {
            do throws(RecordDecodeError) {
                let (record, length) = try RaftLogRecordCodec.decode(
                    UnsafeRawBufferPointer(rebasing: bytes[offset...]),
                    payloadBytesMax: payloadBytesMax)
                records.append((record, offset))
                offset += length
            } catch {
                let follows = validRecordExists(
                    in: bytes, after: offset, payloadBytesMax: payloadBytesMax)
                return (records, (offset, error.description, follows))
            }
        }
        return (records, nil)
    }

    /// Whether a record decodes at any offset after `start` (a bounded resynchronizing scan:
    /// each candidate costs a 28-byte header checksum unless its header is valid).
    private static func validRecordExists(
        in bytes: UnsafeRawBufferPointer, after start: Int, payloadBytesMax: Int
    ) -> Bool {
        var candidate = start + 1
        while candidate < bytes.count {
            if bytes[candidate] == RaftLogRecordCodec.magic,
                (try? RaftLogRecordCodec.decode(
                    UnsafeRawBufferPointer(rebasing: bytes[candidate...]),
                    payloadBytesMax: payloadBytesMax)) != nil
            {
                return true
            }
            candidate += 1
        }
        return false
    }
}
