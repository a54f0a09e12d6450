/// Counters and gauges of a `StorageEngine`, for metrics.
public struct StorageStatistics: Sendable {
    /// Bytes of all segment files in use (hint files excluded).
    public var diskBytes = 0
    /// Bytes of the records the index points to (approximate: expired but unswept included).
    public var liveBytes = 0
    /// Segment files in use.
    public var segmentCount = 0
    /// Keys in the index (expired but unswept included).
    public var keyCount = 0
    /// fdatasync calls on segments issued by the durability thread or rotation.
    public var fsyncCount = 0
    /// Duration of the last fsync in microseconds.
    public var lastFsyncLatencyMicros: UInt64 = 0
    /// Longest fsync in microseconds.
    public var fsyncLatencyMicrosMax: UInt64 = 0
    /// Committed transactions (including `flushAll`).
    public var commitsTotal = 0
    /// Records written by transactions.
    public var writesTotal = 0
    /// Highest committed sequence.
    public var lastSequence: UInt64 = 0
    /// Highest sequence known durable (batch and everysec policies).
    public var durableSequence: UInt64 = 0
    /// Completed compaction runs that rewrote at least one segment.
    public var compactions = 0
    /// Bytes freed by compaction.
    public var bytesReclaimed = 0
    /// Expired keys removed from the index by the active sweep.
    public var expiredKeysSwept = 0
    /// Times writing the deferred append tail failed and writes were refused until it could
    /// be written (see `StorageOptions.defersAppendWrites`).
    public var appendsBlocked = 0
    /// Why writes are refused right now, when the append tail cannot be written; nil otherwise.
    public var appendBlockedReason: String?

    /// Reads served from the value cache, and reads that went to disk.
    public var valueCacheHits = 0
    public var valueCacheMisses = 0
    /// Bytes of values the cache holds.
    public var valueCacheBytes = 0

    public init() {}
}
