/// Where the newest version of a key lies on disk, with its metadata, as held by the index.
struct IndexEntry: Hashable, Sendable {
    /// The segment holding the record.
    var segmentID: UInt32
    /// Offset of the record in the segment.
    var offset: UInt64
    /// Encoded length of the whole record (header, key and value).
    var recordLength: UInt32
    /// The version's metadata.
    var metadata: VersionMetadata

    /// The value's length, derived from the record and key lengths.
    func valueCount(keyCount: Int) -> Int {
        Int(recordLength) - RecordCodec.headerBytes - keyCount
    }
}
