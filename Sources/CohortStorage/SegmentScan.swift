/// What a scan of one segment found: the records of complete groups, the corrupt regions it
/// skipped, and a damaged tail that ran to the end of the bytes.
struct SegmentScan: Sendable {
    /// One region that could not be trusted.
    struct Damage: Hashable, Sendable {
        /// Offset of the first untrusted byte.
        var offset: Int
        /// Why it was rejected.
        var reason: String
    }

    /// Records of complete groups, in file order.
    var records: [HintEntry] = []
    /// Corrupt regions followed by valid records; their bytes were skipped.
    var corruptions: [Damage] = []
    /// A damaged or incomplete region that reaches the end of the bytes (a torn tail when it is
    /// in the segment being appended to).
    var tail: Damage?
    /// The end of the last complete group: where appending may continue after cutting the tail.
    var validEnd = 0
    /// Where zeroes begin that run to the end of the bytes after the last complete group: space
    /// preallocated for appends that never came (see `StorageOptions.segmentPreallocationBytes`),
    /// neither records nor damage.
    var zeroesFrom: Int?
}
