/// One event of a ``History``. The event's position in ``History/events`` is its logical
/// timestamp: histories never use wall clocks.
public enum HistoryEvent: Hashable, Sendable {
    /// A client sent the operation.
    case invocation(OperationID)
    /// The client learned the operation's outcome.
    case completion(OperationID)

    /// The operation this event belongs to.
    public var operation: OperationID {
        switch self {
        case .invocation(let id), .completion(let id): return id
        }
    }
}
