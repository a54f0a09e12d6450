/// Identifies a committed transaction, to wait for its durability.
public struct Commit: Hashable, Sendable {
    /// The sequence shared by the transaction's records.
    public var sequence: UInt64

    /// Creates a commit handle.
    public init(sequence: UInt64) { self.sequence = sequence }
}
