/// Records appended to the active segment that are still in memory, not in its file (the
/// append tail, see `StorageEngine+AppendTail`): reads of them are served from here.
struct PendingRecords: Sendable {
    /// The segment they belong to.
    let segmentID: UInt32
    /// Where in that segment the first of them belongs; the tail starts at a record boundary.
    let offset: Int
    let bytes: [UInt8]

    /// The bytes of `entry`'s record when it is one of these, nil when it is in a file.
    func record(of entry: IndexEntry) -> [UInt8]? {
        guard entry.segmentID == segmentID, Int(entry.offset) >= offset else { return nil }
        let start = Int(entry.offset) - offset
        let end = start + Int(entry.recordLength)
        precondition(end <= bytes.count, "record \(entry.offset) runs past the append tail")
        return Array(bytes[start..<end])
    }
}
