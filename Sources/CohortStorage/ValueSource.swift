/// Where a value read that missed the cache finds its record (see
/// `StorageEngine.valueSourceLocked`).
enum ValueSource {
    /// Still in the append tail: a copy of the record, and the file it belongs to (named in
    /// errors).
    case memory(record: [UInt8], file: SegmentFile)
    /// In this segment file, read outside the engine's lock.
    case file(SegmentFile)

    /// Where `entry`'s record, which belongs to `file`, is read: from `pending` when it is
    /// still there, else from the file.
    init(entry: IndexEntry, file: SegmentFile, pending: PendingRecords?) {
        if let record = pending?.record(of: entry) {
            self = .memory(record: record, file: file)
        } else {
            self = .file(file)
        }
    }
}
