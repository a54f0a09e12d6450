/// What `StorageEngine.open` found and did.
public struct RecoveryReport: Sendable {
    /// Records applied to the index (from hints and scans).
    public var recordsLoaded = 0
    /// Live keys after recovery.
    public var keysLoaded = 0
    /// Segments read through their hint files.
    public var hintFilesUsed = 0
    /// Hint files present but rejected (the segment was scanned instead).
    public var hintFilesRejected: [String] = []
    /// Segments scanned record by record.
    public var segmentsScanned = 0
    /// The torn tail cut from the last segment, if there was one.
    public var tornTail: TornTail?
    /// Corrupt regions before the tail or in sealed segments, skipped and never served.
    public var corruptions: [StorageCorruption] = []
    /// Files discarded because a restore from a snapshot was interrupted (see
    /// `StorageEngine.restore(sequence:nowMillis:_:)`): the engine opened empty.
    public var discardedInterruptedRestore: [String] = []
    /// The highest sequence found.
    public var lastSequence: UInt64 = 0

    /// An empty report.
    /// Whether the index came from the checkpoint a clean shutdown wrote (no segment was read).
    public var indexCheckpointUsed = false

    public init() {}
}
