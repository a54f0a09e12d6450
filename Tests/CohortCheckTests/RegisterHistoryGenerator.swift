import CohortCheck
import CohortCore

/// Generates histories from a real execution of key-value registers: every operation takes
/// effect atomically at a random moment between its invocation and its completion (or, for
/// indeterminate ones, at any later moment or never), so the histories are linearizable by
/// construction.
struct RegisterHistoryGenerator {
    var processesCount = 5
    var operationsCount = 200
    var keys = ["a", "b", "c"]
    /// Chance in percent that a completion is reported as `info`.
    var infoPercent = 10

    private struct Outstanding {
        var id: OperationID
        var key: String
        var kind: OperationKind
        var outcome: OperationOutcome?
    }

    func generate(seed: UInt64) -> History {
        var random = SplitMix64(seed: seed)
        var history = History()
        var registers: [String: [UInt8]?] = [:]
        var outstanding: [Int: Outstanding] = [:]
        // Indeterminate operations that have not taken effect yet and still might.
        var floating: [Outstanding] = []
        var nextValue = 0
        var invokedCount = 0

        func apply(_ operation: Outstanding) -> OperationOutcome {
            let current = registers[operation.key] ?? nil
            switch operation.kind {
            case .read:
                return .ok(current)
            case .write(let value):
                registers[operation.key] = value
                return .ok(nil)
            case .compareAndSet(let expected, let new):
                guard current == expected else { return .fail }
                registers[operation.key] = new
                return .ok(nil)
            }
        }

        while invokedCount < operationsCount || !outstanding.isEmpty {
            let choice = Int.random(in: 0..<10, using: &random)
            let idle = (0..<processesCount).filter { outstanding[$0] == nil }
            if choice < 4, invokedCount < operationsCount,
                let process = idle.randomElement(using: &random)
            {
                let key = keys.randomElement(using: &random)!
                let kind: OperationKind
                switch Int.random(in: 0..<3, using: &random) {
                case 0:
                    kind = .read
                case 1:
                    nextValue += 1
                    kind = .write(
                        Int.random(in: 0..<8, using: &random) == 0 ? nil : bytes("v\(nextValue)"))
                default:
                    nextValue += 1
                    let current = registers[key] ?? nil
                    let expected =
                        Bool.random(using: &random) ? current : bytes("v\(nextValue / 2)")
                    kind = .compareAndSet(expected: expected, new: bytes("v\(nextValue)"))
                }
                let id = history.invoke(process: ProcessID(UInt64(process)), key: key, kind: kind)
                outstanding[process] = Outstanding(id: id, key: key, kind: kind)
                invokedCount += 1
            } else if choice < 7,
                let process = outstanding.keys.sorted().randomElement(using: &random),
                outstanding[process]!.outcome == nil
            {
                outstanding[process]!.outcome = apply(outstanding[process]!)
            } else if choice < 9,
                let process = outstanding.keys.sorted().randomElement(using: &random)
            {
                let operation = outstanding[process]!
                if Int.random(in: 0..<100, using: &random) < infoPercent {
                    if operation.outcome == nil { floating.append(operation) }
                    history.complete(operation.id, .info)
                } else if let outcome = operation.outcome {
                    history.complete(operation.id, outcome)
                } else {
                    continue
                }
                outstanding[process] = nil
            } else if !floating.isEmpty {
                let index = Int.random(in: 0..<floating.count, using: &random)
                if Bool.random(using: &random) { _ = apply(floating[index]) }
                floating.remove(at: index)
            }
        }
        return history
    }
}

extension History {
    /// A copy in which the outcome of operation `id` is replaced.
    func replacingOutcome(of id: OperationID, with outcome: OperationOutcome) -> History {
        var copy = History()
        for event in events {
            let operation = self[event.operation]
            switch event {
            case .invocation:
                copy.invoke(process: operation.process, key: operation.key, kind: operation.kind)
            case .completion:
                copy.complete(event.operation, event.operation == id ? outcome : operation.outcome!)
            }
        }
        return copy
    }
}
