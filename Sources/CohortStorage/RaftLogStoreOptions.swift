import CohortRaft

/// Tunables and bounds of a ``RaftLogStore``, all in one place.
public struct RaftLogStoreOptions: Sendable, Hashable {
    /// The device the store's files live on: the machine's file system unless a simulator
    /// supplies its own.
    public var device: any StorageDevice = POSIXStorageDevice.shared
    /// Largest payload of one log record (an entry's data or membership). At least
    /// ``RaftConfig/entryBytesMax`` of the node it serves, or its proposals cannot be stored.
    public var entryBytesMax: Int = 4 << 20
    /// A new segment is started before a record would take the active one past this size (a
    /// single larger record still goes into a segment of its own).
    public var segmentBytesMax: Int = 64 << 20
    /// Zeroes written ahead of the records at the end of the active segment, this many bytes
    /// at a time (0: none). Records then overwrite allocated blocks without changing the
    /// file's length, so each fdatasync writes only data, not the inode too: on ext4 that cut
    /// the CPU of a small append-and-fdatasync by about a third and its latency by a third to
    /// a half. A segment is cut back to its records when sealed; after a crash the zeroes are
    /// a torn tail, cut on open. At most ``segmentBytesMax`` is preallocated.
    public var segmentPreallocationBytes = 0
    /// Largest snapshot (its data) stored. At least ``RaftConfig/incomingSnapshotBytesMax``.
    public var snapshotBytesMax: Int = 1 << 40
    /// What opening does with damage before the end of the log.
    public var corruptionPolicy: RaftLogCorruptionPolicy = .refuse

    /// Default options.
    public init() {}

    /// Options are equal when their bounds are and they name the same device instance.
    public static func == (a: RaftLogStoreOptions, b: RaftLogStoreOptions) -> Bool {
        a.device === b.device && a.entryBytesMax == b.entryBytesMax
            && a.segmentBytesMax == b.segmentBytesMax
            && a.segmentPreallocationBytes == b.segmentPreallocationBytes
            && a.snapshotBytesMax == b.snapshotBytesMax && a.corruptionPolicy == b.corruptionPolicy
    }

    /// Hashes what `==` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(device))
        hasher.combine(entryBytesMax)
        hasher.combine(segmentBytesMax)
        hasher.combine(segmentPreallocationBytes)
        hasher.combine(snapshotBytesMax)
        hasher.combine(corruptionPolicy)
    }

    /// Traps when the bounds are unusable or cannot hold what a node configured with `config`
    /// produces.
    public func validate(for config: RaftConfig = RaftConfig()) {
        precondition(
            entryBytesMax >= config.entryBytesMax && entryBytesMax <= Int(UInt32.max),
            "entryBytesMax \(entryBytesMax) outside \(config.entryBytesMax)...UInt32.max")
        precondition(
            segmentBytesMax >= 4 << 10, "segmentBytesMax \(segmentBytesMax) below 4 KiB")
        precondition(
            segmentPreallocationBytes >= 0 && segmentPreallocationBytes <= segmentBytesMax,
            "segmentPreallocationBytes \(segmentPreallocationBytes) outside 0...\(segmentBytesMax)")
        precondition(
            snapshotBytesMax >= config.incomingSnapshotBytesMax,
            "snapshotBytesMax \(snapshotBytesMax) below \(config.incomingSnapshotBytesMax)")
    }
}
