/// A command of the simulator's key-value state machine, as carried in a Raft log entry.
public enum KeyValueCommand: Hashable, Sendable {
    /// Sets `key` to `value`.
    case set(key: Int, value: Int)
    /// Sets `key` to `new` if it currently holds `expected` (nil: the key is absent).
    case compareAndSet(key: Int, expected: Int?, new: Int)
    /// Reads `key` through the log (used when a read cannot go through ReadIndex).
    case read(key: Int)

    /// True for commands that change state.
    public var isWrite: Bool {
        switch self {
        case .set, .compareAndSet: return true
        case .read: return false
        }
    }

    /// The key the command touches.
    public var key: Int {
        switch self {
        case .set(let key, _), .compareAndSet(let key, _, _), .read(let key): return key
        }
    }
}
