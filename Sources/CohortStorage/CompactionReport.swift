/// What one `StorageEngine.compact` run did.
public struct CompactionReport: Sendable {
    /// Segments rewritten and deleted.
    public var segmentsCompacted: [String] = []
    /// Segments skipped because a scan found corruption in them (kept for inspection).
    public var segmentsSkipped: [String] = []
    /// Segments whose live records were found from the index instead of by a scan, because
    /// they held no record that acts as a deletion (`SegmentState.mayHoldDeletions`).
    public var segmentsFromIndex = 0
    /// The segment written, if any record survived.
    public var segmentWritten: String?
    /// Live records copied.
    public var recordsCopied = 0
    /// Deletion markers kept because an older segment may still hold an older version.
    public var tombstonesKept = 0
    /// Index entries moved to the new segment (copied records not overwritten meanwhile).
    public var entriesMoved = 0
    /// Bytes of the compacted segments.
    public var bytesBefore = 0
    /// Bytes of the segment written.
    public var bytesAfter = 0

    /// Bytes returned to the file system.
    public var bytesReclaimed: Int { bytesBefore - bytesAfter }

    /// An empty report.
    public init() {}
}
