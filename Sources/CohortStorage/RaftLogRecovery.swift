import CohortCore

/// What ``RaftLogStore/open(directory:options:)`` found and did.
public struct RaftLogRecovery: Sendable {
    /// Segment files read.
    public var segmentsScanned = 0
    /// Records read and applied.
    public var recordsRead = 0
    /// The incomplete final write cut from the last segment, if there was one.
    public var tornTail: TornTail?
    /// Damage before the end of the log. Non-empty only under
    /// ``RaftLogCorruptionPolicy/truncate`` (``RaftLogCorruptionPolicy/refuse`` throws
    /// instead); the log was cut at the first one.
    public var corruptions: [StorageCorruption] = []
    /// Segment files removed because they followed a corruption.
    public var segmentsDiscarded: [String] = []
    /// Entries after the snapshot that the snapshot replaced: a snapshot received from the
    /// leader was durable but the crash came before the log reset that follows it.
    public var entriesReplacedBySnapshot = 0
    /// The persisted commit index, when it had to be lowered to the end of a log cut at a
    /// corruption (the hard state then holds the new, lower value).
    public var commitIndexLoweredFrom: LogIndex?
    /// Temporary files of interrupted snapshot writes, removed.
    public var temporaryFilesRemoved: [String] = []

    /// An empty report.
    public init() {}
}
