/// A write (or successful compare-and-set) that the system acknowledged to a client.
public struct AcknowledgedWrite: Hashable, Sendable, CustomStringConvertible {
    /// The key written.
    public var key: [UInt8]
    /// The value written (`nil`: a delete).
    public var value: [UInt8]?
    /// Logical time the client sent it (a ``History`` event position, or any counter shared with
    /// ``acknowledgementPosition``).
    public var invocationPosition: Int
    /// Logical time the client received the acknowledgement.
    public var acknowledgementPosition: Int

    /// Creates an acknowledged write.
    public init(
        key: [UInt8], value: [UInt8]?, invocationPosition: Int, acknowledgementPosition: Int
    ) {
        precondition(
            invocationPosition <= acknowledgementPosition,
            "acknowledged at \(acknowledgementPosition) before invoked at \(invocationPosition)")
        self.key = key
        self.value = value
        self.invocationPosition = invocationPosition
        self.acknowledgementPosition = acknowledgementPosition
    }

    /// `write KEY VALUE [invoked, acknowledged]`.
    public var description: String {
        "write \(ByteStringText.render(key)) \(ByteStringText.render(value)) "
            + "[\(invocationPosition), \(acknowledgementPosition)]"
    }
}
