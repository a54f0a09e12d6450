/// Decides whether a ``History`` of key-value register operations is linearizable.
///
/// Each key is checked on its own (linearizability is compositional, Herlihy & Wing §3.3), with a
/// depth-first search over linearization orders that caches visited configurations (see
/// `RegisterSearch`). Every key starts at ``initialValue``. A key whose search exceeds
/// ``stepsMaxPerKey`` makes the verdict ``LinearizabilityResult/unknown(reason:)`` unless another
/// key is definitely not linearizable.
///
/// Outcomes: `ok` operations took effect once between invocation and completion; `fail`
/// operations never took effect; `info` and pending operations may take effect at any point
/// after their invocation, or never.
public struct LinearizabilityChecker: Sendable {
    /// The search steps allowed per key before giving up with `unknown`. One step is one visit
    /// of a history event; a million takes well under a second on typical histories.
    public var stepsMaxPerKey: Int
    /// The value every key holds before the history starts (`nil`: absent).
    public var initialValue: [UInt8]?

    /// The default budget per key.
    public static let stepsMaxPerKeyDefault = 2_000_000

    /// Creates a checker.
    public init(stepsMaxPerKey: Int = stepsMaxPerKeyDefault, initialValue: [UInt8]? = nil) {
        precondition(stepsMaxPerKey > 0, "stepsMaxPerKey must be positive, got \(stepsMaxPerKey)")
        self.stepsMaxPerKey = stepsMaxPerKey
        self.initialValue = initialValue
    }

    /// Checks every key. Keys are visited in bytewise order; the verdict is the first
    /// `notLinearizable` key if any, else `unknown` if any key ran out of budget, else
    /// `linearizable`.
    public func check(_ history: History) -> LinearizabilityResult {
        checkWithStatistics(history).result
    }

    /// Checks every key and also reports the total search steps used, for tuning budgets.
    public func checkWithStatistics(_ history: History) -> (
        result: LinearizabilityResult, steps: Int
    ) {
        var operationsByKey: [[UInt8]: [Operation]] = [:]
        for operation in history.operations {
            operationsByKey[operation.key, default: []].append(operation)
        }
        var unknownReasons: [String] = []
        var totalSteps = 0
        for key in operationsByKey.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            var search = RegisterSearch(
                key: key, operations: operationsByKey[key]!, initialValue: initialValue,
                stepsMax: stepsMaxPerKey)
            let (result, steps) = search.run()
            totalSteps += steps
            switch result {
            case .linearizable: continue
            case .notLinearizable: return (result, totalSteps)
            case .unknown(let reason): unknownReasons.append(reason)
            }
        }
        if unknownReasons.isEmpty { return (.linearizable, totalSteps) }
        return (.unknown(reason: unknownReasons.joined(separator: "; ")), totalSteps)
    }

    /// Checks the operations of one key only.
    public func check(_ history: History, key: [UInt8]) -> LinearizabilityResult {
        var search = RegisterSearch(
            key: key, operations: history.operations.filter { $0.key == key },
            initialValue: initialValue, stepsMax: stepsMaxPerKey)
        return search.run().result
    }
}
