import CohortCore

/// Tunables of a `StorageEngine`.
public struct StorageOptions: Sendable {
    /// The durability policy.
    public var fsync: FsyncPolicy = .batch
    /// Under `.everysec` and `.none`: commits wait in memory (the append tail) until the
    /// caller asks for them to be written (`writeAppends`), the once-a-second fsync comes, or
    /// the tail grows large, so that a server writes a whole turn of its event loop's commits
    /// with one `pwrite`, as Redis writes its AOF buffer once before it sleeps. The caller
    /// must not acknowledge a commit before `sequences.written` covers it. When that write
    /// fails (a full disk), the records stay in memory, later writes are refused with the
    /// error, and every later `writeAppends` (and the background thread) tries again; reads
    /// are served from memory meanwhile. Off, each commit is written at once and a failed
    /// write refuses just that commit. `.batch` always uses the tail (see
    /// `StorageEngine+AppendTail`).
    public var defersAppendWrites = false
    /// A segment is sealed and a new one started before an append would exceed this size
    /// (a single larger transaction still gets a segment of its own).
    public var segmentBytesMax: Int = 64 << 20
    /// Zeroes written ahead of the active segment's append position, this many bytes at a time
    /// (0: none). An fdatasync of records written over zeroes the file already holds need not
    /// commit a new file size or new blocks to the filesystem's journal; on this project's ext4
    /// machine that cut a small append-and-fdatasync from about 320 to 215 microseconds. A
    /// segment is cut back to its records when sealed or closed; after a crash the zeroes after
    /// the last record are recognised as preallocated, not damage, and cut.
    public var segmentPreallocationBytes = 1 << 20
    /// The largest key accepted.
    public var keyBytesMax = 1 << 20
    /// The largest value accepted (at most `UInt32.max`, the record's length field).
    public var valueBytesMax = 512 << 20
    /// Memory for recently written and read values (see ValueCache); 0 reads every value from
    /// disk.
    public var valueCacheBytesMax = 32 << 20
    /// A sealed segment is compacted when at least this fraction of its bytes is dead.
    public var compactionGarbageRatioMin = 0.5
    /// The background thread compacts only once the segments that qualify by ratio hold at
    /// least this many dead bytes together; nil means a quarter of `segmentBytesMax`. Without
    /// it, the small output of each compaction qualified again as soon as half of its keys
    /// were overwritten, and under steady overwrites of a small key set compaction ran every
    /// half second, rewriting the same live records (a fifth of a core on a 2-core machine,
    /// taken from serving); Redis likewise rewrites its AOF only past a minimum size. The
    /// waste this leaves is bounded by the threshold. `compact()` called directly ignores it.
    public var compactionGarbageBytesMin: Int?
    /// The origin recorded in the metadata of local writes.
    public var origin = NodeID(1)
    /// Period of the background thread (expiry sweep, compaction trigger).
    public var backgroundIntervalMillis = 100
    /// Index entries the active expiry sweep examines per background period, so that the sweep
    /// holds the engine lock only briefly.
    public var expirySweepKeysMax = 1_000
    /// Whether the background thread compacts on its own when a segment qualifies.
    public var compactsAutomatically = true
    /// The device the segment, hint and checkpoint files live on: the machine's file system
    /// unless a simulator supplies its own.
    public var device: any StorageDevice = POSIXStorageDevice.shared
    /// Whether the engine runs its durability and background work on threads of its own (the
    /// default) or only when the caller asks (see ``StorageBackgroundWork``).
    public var backgroundWork: StorageBackgroundWork = .threads

    /// Default options.
    public init() {}
}
