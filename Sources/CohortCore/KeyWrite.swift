/// One key-level write: the whole new state of a key. A transaction buffers these, and a
/// replication leader turns them into log entries, so applying one never depends on what the
/// key held before (replaying it twice leaves the same state).
public enum KeyWrite: Hashable, Sendable {
    /// The key holds `value` of `type`; `expiresAtMillis` is absolute milliseconds since the
    /// epoch, 0 for none.
    case put(value: [UInt8], type: ValueType, expiresAtMillis: UInt64)
    /// The key is absent.
    case delete

    /// Whether the write acts as a deletion, now or once it expires (see
    /// `SegmentState.mayHoldDeletions`).
    package var actsAsDeletion: Bool {
        switch self {
        case .put(_, _, let expiresAtMillis): expiresAtMillis != 0
        case .delete: true
        }
    }
}
