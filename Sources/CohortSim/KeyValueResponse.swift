/// The state machine's answer to a request, which the leader returns to the client.
public enum KeyValueResponse: Hashable, Sendable {
    /// A set was applied.
    case written
    /// A compare-and-set was applied; `succeeded` says whether the comparison held.
    case compareAndSet(succeeded: Bool)
    /// The value read (nil: the key is absent).
    case value(Int?)
}
