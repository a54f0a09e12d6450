/// Where the newest version of a key lies on disk, with its metadata, as held by the index.
struct IndexEntry: Hashable, Sendable {
    /// The segment holding the record.
    var segmentID: UInt32
    /// Encoded length of the whole record (header, key and value). Declared beside
    /// `segmentID`, so that the two share one word (54 bytes in all, see `IndexSlot`).
    var recordLength: UInt32
    /// Offset of the record in the segment.
    var offset: UInt64
    /// The version's metadata.
    var metadata: VersionMetadata

    init(segmentID: UInt32, offset: UInt64, recordLength: UInt32, metadata: VersionMetadata) {
        self.segmentID = segmentID
        self.recordLength = recordLength
        self.offset = offset
        self.metadata = metadata
    }

    /// The value's length, derived from the record and key lengths.
    func valueCount(keyCount: Int) -> Int {
        Int(recordLength) - RecordCodec.headerBytes - keyCount
    }
}
