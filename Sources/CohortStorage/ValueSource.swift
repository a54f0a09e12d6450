/// Where a value read that missed the cache finds its record (see
/// `StorageEngine.valueSourceLocked`).
enum ValueSource {
    /// Still in the append tail: a copy of the record, and the file it belongs to (named in
    /// errors).
    case memory(record: [UInt8], file: SegmentFile)
    /// In this segment file, read outside the engine's lock.
    case file(SegmentFile)
}
