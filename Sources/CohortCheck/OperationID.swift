/// Identifies one operation of a ``History``: its position in ``History/operations``, so ids are
/// dense, start at zero and follow invocation order.
public struct OperationID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The operation's position in ``History/operations``.
    public var rawValue: Int

    /// Creates an operation id from its position.
    public init(_ rawValue: Int) { self.rawValue = rawValue }

    /// Orders by position, which is invocation order.
    public static func < (lhs: OperationID, rhs: OperationID) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    /// Renders as `#<position>`.
    public var description: String { "#\(rawValue)" }
}
