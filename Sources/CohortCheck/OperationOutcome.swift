/// How an operation ended, as the client saw it.
public enum OperationOutcome: Hashable, Sendable {
    /// The operation took effect exactly once, between its invocation and its completion. For a
    /// read the associated value is the value returned (`nil`: the key was absent); for a write or
    /// a compare-and-set that succeeded it is always `nil`.
    case ok([UInt8]?)
    /// The operation definitely did not take effect: a compare-and-set whose expected value did
    /// not match, or a request rejected before it could be applied.
    case fail
    /// Indeterminate: the operation may take effect at any time after its invocation, or never
    /// (a timeout, a lost connection). Its completion is treated as happening at +infinity.
    case info

    /// The word the history text format uses for this outcome.
    public var name: String {
        switch self {
        case .ok: return "ok"
        case .fail: return "fail"
        case .info: return "info"
        }
    }
}
