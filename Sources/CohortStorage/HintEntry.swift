/// One line of a hint file: where a record of a sealed segment lies and what it says, without
/// its value, so that a restart can rebuild the index without reading values.
struct HintEntry: Hashable, Sendable {
    /// The record's key (empty for a clear record).
    var key: [UInt8]
    /// The record's metadata.
    var metadata: VersionMetadata
    /// True for a clear record (`flushAll`).
    var isClear: Bool
    /// Offset of the record in its segment.
    var offset: UInt64
    /// Encoded length of the record.
    var recordLength: UInt32

    /// Whether the record acts as a deletion, now or once it expires (see
    /// `SegmentState.mayHoldDeletions`).
    var actsAsDeletion: Bool {
        isClear || metadata.isTombstone || metadata.expiresAtMillis != 0
    }
}
