/// Why a key's history is not linearizable: the longest linearizable prefix the search found,
/// the register value it leaves, and the first operation that could not be linearized after it.
public struct LinearizabilityExplanation: Hashable, Sendable, CustomStringConvertible {
    /// The key whose sub-history is not linearizable.
    public var key: [UInt8]
    /// The longest sequence of operations the search could linearize, in linearization order.
    public var linearizedPrefix: [Operation]
    /// The register value after ``linearizedPrefix`` (`nil`: absent).
    public var valueAfterPrefix: [UInt8]?
    /// The operation whose completion the search could not pass: it had to take effect before
    /// completing, yet neither it nor any other pending operation could be applied next.
    public var blockedOperation: Operation
    /// Every operation invoked before ``blockedOperation`` completed that is not in the prefix
    /// (the candidates that could have gone next), in invocation order.
    public var pendingOperations: [Operation]
    /// Total operations the key's history asks to linearize (completed `ok` ones).
    public var operationsRequiredCount: Int

    /// Creates an explanation. The checker builds these.
    public init(
        key: [UInt8], linearizedPrefix: [Operation], valueAfterPrefix: [UInt8]?,
        blockedOperation: Operation, pendingOperations: [Operation], operationsRequiredCount: Int
    ) {
        self.key = key
        self.linearizedPrefix = linearizedPrefix
        self.valueAfterPrefix = valueAfterPrefix
        self.blockedOperation = blockedOperation
        self.pendingOperations = pendingOperations
        self.operationsRequiredCount = operationsRequiredCount
    }

    /// A multi-line explanation, one operation per line (see ``Operation/summary``).
    public var description: String {
        var text = "key \(ByteStringText.render(key)) is not linearizable.\n"
        text += "Longest linearizable prefix (\(linearizedPrefix.count) operations"
        text += ", \(operationsRequiredCount) completed ok in total):\n"
        for (position, operation) in linearizedPrefix.enumerated() {
            text += "  \(position + 1). \(operation.summary)\n"
        }
        text += "Value after the prefix: \(ByteStringText.render(valueAfterPrefix))\n"
        text += "Cannot linearize: \(blockedOperation.summary)\n"
        text += "Pending then (each cannot take effect next, or leads to a dead end):\n"
        for operation in pendingOperations {
            text += "  \(operation.summary)\n"
        }
        return text
    }
}
