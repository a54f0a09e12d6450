/// What a simulated disk holds durably, rebuilt by applying the disk's records in order.
/// The Raft driver's image is the hard state, the log and the snapshot; tests use small ones.
public protocol DurableImage: Sendable {
    /// One write to the disk.
    associatedtype Record: Sendable

    /// Applies a write that reached the platter.
    mutating func apply(_ record: Record)

    /// What survives of `record` when a crash interrupts it half-written: a shorter record
    /// (for example a prefix of its log entries, as a checksummed format would cut a torn tail
    /// at restart), or nil when nothing of it survives.
    static func torn(_ record: Record, random: inout SimRandom) -> Record?
}
