/// One write applied by the committed log, as read back after the run (in log order).
public struct CommittedWrite: Hashable, Sendable {
    /// The key written.
    public var key: [UInt8]
    /// The value written (`nil`: a delete).
    public var value: [UInt8]?

    /// Creates a committed write.
    public init(key: [UInt8], value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}
