/// The engine's bookkeeping for one segment in use.
struct SegmentState: Sendable {
    let file: SegmentFile
    /// Bytes written (the append position for the active segment).
    var bytes: Int
    /// The end of the zeroes written ahead of `bytes` in the active segment (see
    /// `StorageOptions.segmentPreallocationBytes`); at most `bytes` when there are none, and
    /// `Int.max` after a preallocation failed, so that the segment is not extended again.
    var preallocatedEnd = 0
    /// Bytes of records the index points to, plus `markerBytes`.
    var liveBytes = 0
    /// Bytes of the deletion markers a compaction kept in this, its output segment: counted
    /// in `liveBytes` (so the segment does not qualify for compaction again at once) though no
    /// index entry points to them, so they stay counted until the segment itself is compacted.
    var markerBytes = 0
    /// Lowest and highest sequence of any record in the segment; nil while it is empty.
    var sequenceMin: UInt64?
    var sequenceMax: UInt64?
    /// No more appends: sealed segments may be compacted.
    var isSealed: Bool
    /// Compaction found corruption in it: left alone (and not retried) until a restart.
    var isQuarantined = false
    /// Whether the segment may hold a record that acts as a deletion: a deletion marker, a
    /// clear record, or a version with an expiry (which becomes one when it expires).
    /// Compaction scans such a segment for them; one without holds only plain values, the dead
    /// of which it may simply drop, so it finds the live ones from the index instead (see
    /// `StorageEngine.compact`). True unless known otherwise.
    var mayHoldDeletions = true

    /// Accounts for a group of `bytes` bytes appended under `sequence`; `deletes` says whether
    /// the group holds a record that acts as a deletion.
    mutating func recordAppend(bytes count: Int, sequence: UInt64, deletes: Bool) {
        bytes += count
        include(sequence: sequence)
        if deletes { mayHoldDeletions = true }
    }

    /// Widens the sequence range to include `sequence`.
    mutating func include(sequence: UInt64) {
        sequenceMin = min(sequenceMin ?? sequence, sequence)
        sequenceMax = max(sequenceMax ?? sequence, sequence)
    }

    /// Fraction of the segment that no index entry points to.
    var garbageRatio: Double {
        bytes == 0 ? 0 : Double(bytes - liveBytes) / Double(bytes)
    }
}
