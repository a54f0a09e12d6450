/// What an operation asks of a key-value register. Values are byte strings; `nil` means the key
/// is absent, so `write(nil)` is a delete and `compareAndSet(expected: nil, new:)` is
/// "set if absent".
public enum OperationKind: Hashable, Sendable {
    /// Reads the key. The value read is carried by the outcome (``OperationOutcome/ok(_:)``).
    case read
    /// Sets the key to a value (`nil` deletes it).
    case write([UInt8]?)
    /// Sets the key to `new` if, and only if, its current value equals `expected`.
    case compareAndSet(expected: [UInt8]?, new: [UInt8]?)

    /// The word the history text format uses for this kind.
    public var name: String {
        switch self {
        case .read: return "read"
        case .write: return "write"
        case .compareAndSet: return "cas"
        }
    }
}
