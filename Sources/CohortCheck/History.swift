/// A concurrent history of key-value register operations, recorded as invocation and completion
/// events in the order they happened. Positions in ``events`` are the logical timestamps.
///
/// Record with ``invoke(process:key:kind:)`` when a client sends a request and
/// ``complete(_:_:)`` when it learns the outcome. Like Jepsen, each process has at most one
/// operation outstanding; an operation left pending is checked as indeterminate (`info`).
public struct History: Hashable, Sendable {
    /// Every operation, in invocation order; ``OperationID/rawValue`` indexes this array.
    public private(set) var operations: [Operation] = []
    /// Every event, in the order it happened.
    public private(set) var events: [HistoryEvent] = []
    /// The operation each process has outstanding, if any.
    private var outstandingByProcess: [ProcessID: OperationID] = [:]

    /// Creates an empty history.
    public init() {}

    /// Records that `process` sent an operation on `key`, and returns its id.
    ///
    /// - Precondition: `process` has no operation outstanding.
    @discardableResult
    public mutating func invoke(process: ProcessID, key: [UInt8], kind: OperationKind)
        -> OperationID
    {
        precondition(
            outstandingByProcess[process] == nil,
            "\(process) invoked a new operation while \(outstandingByProcess[process]!) is outstanding"
        )
        let id = OperationID(operations.count)
        operations.append(
            Operation(
                id: id, process: process, key: key, kind: kind, invocationPosition: events.count))
        events.append(.invocation(id))
        outstandingByProcess[process] = id
        return id
    }

    /// Records that `process` sent an operation on a key given as UTF-8 text.
    @discardableResult
    public mutating func invoke(process: ProcessID, key: String, kind: OperationKind)
        -> OperationID
    {
        invoke(process: process, key: Array(key.utf8), kind: kind)
    }

    /// Records the outcome of operation `id`.
    ///
    /// - Precondition: `id` is pending; a write or compare-and-set that succeeded carries no
    ///   value (`.ok(nil)`).
    public mutating func complete(_ id: OperationID, _ outcome: OperationOutcome) {
        precondition(
            id.rawValue >= 0 && id.rawValue < operations.count,
            "unknown operation \(id); history has \(operations.count)")
        precondition(
            operations[id.rawValue].outcome == nil,
            "operation \(id) completed twice: \(operations[id.rawValue].summary)")
        if case .ok(let value) = outcome, value != nil {
            if case .read = operations[id.rawValue].kind {
            } else {
                preconditionFailure(
                    "a successful \(operations[id.rawValue].kind.name) carries no value: \(id)")
            }
        }
        operations[id.rawValue].outcome = outcome
        operations[id.rawValue].completionPosition = events.count
        events.append(.completion(id))
        outstandingByProcess[operations[id.rawValue].process] = nil
    }

    /// The operation with id `id`.
    public subscript(id: OperationID) -> Operation { operations[id.rawValue] }

    /// Operations that have not completed, in invocation order.
    public var pendingOperations: [Operation] { operations.filter { $0.outcome == nil } }

    /// The distinct keys of the history, sorted bytewise so that output never depends on hashing.
    public var keys: [[UInt8]] {
        var seen = Set<[UInt8]>()
        var keys: [[UInt8]] = []
        for operation in operations where seen.insert(operation.key).inserted {
            keys.append(operation.key)
        }
        return keys.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// The sub-history of one key, with operations renumbered but event order kept.
    /// Linearizability is compositional (Herlihy & Wing): a history is linearizable if, and only
    /// if, every per-key sub-history is.
    public func subhistory(key: [UInt8]) -> History {
        var result = History()
        var mapping: [OperationID: OperationID] = [:]
        for event in events {
            let operation = operations[event.operation.rawValue]
            guard operation.key == key else { continue }
            switch event {
            case .invocation(let id):
                mapping[id] = result.invoke(
                    process: operation.process, key: operation.key, kind: operation.kind)
            case .completion(let id):
                result.complete(mapping[id]!, operation.outcome!)
            }
        }
        return result
    }
}
