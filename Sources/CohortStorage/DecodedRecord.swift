/// One record decoded in place: its metadata and where its key and value lie in the buffer it was
/// decoded from (the bytes are not copied, so a recovery scan of a mapped file stays cheap).
struct DecodedRecord: Sendable {
    /// The version metadata stored in the header.
    var metadata: VersionMetadata
    /// True for a "clear everything before this sequence" record written by `flushAll`.
    var isClear: Bool
    /// Number of records in this record's atomic group (one transaction), at least 1.
    var groupRecords: UInt32
    /// Byte range of the key, relative to the start of the record.
    var keyRange: Range<Int>
    /// Byte range of the value, relative to the start of the record.
    var valueRange: Range<Int>
    /// Total encoded length of the record.
    var recordLength: Int
}
