/// The verdict of the ``LinearizabilityChecker``.
public enum LinearizabilityResult: Hashable, Sendable, CustomStringConvertible {
    /// Some order of the operations, consistent with real time, explains every outcome.
    case linearizable
    /// No such order exists; the explanation shows how far the search got and what blocked it.
    case notLinearizable(LinearizabilityExplanation)
    /// The step budget ran out before the search could decide.
    case unknown(reason: String)

    /// Whether the verdict is ``linearizable``.
    public var isLinearizable: Bool {
        if case .linearizable = self { return true }
        return false
    }

    /// The explanation of a ``notLinearizable`` verdict, else `nil`.
    public var explanation: LinearizabilityExplanation? {
        if case .notLinearizable(let explanation) = self { return explanation }
        return nil
    }

    /// A readable verdict; for a violation, the whole explanation.
    public var description: String {
        switch self {
        case .linearizable: return "linearizable"
        case .notLinearizable(let explanation): return explanation.description
        case .unknown(let reason): return "unknown: \(reason)"
        }
    }
}
