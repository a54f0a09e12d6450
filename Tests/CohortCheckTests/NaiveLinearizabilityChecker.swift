import CohortCheck

/// A brute-force checker for one key, used to cross-check the real one on small histories: it
/// tries every order of the operations that respects real time, with indeterminate operations
/// optional, and no cache or pruning.
struct NaiveLinearizabilityChecker {
    func isLinearizable(_ history: History) -> Bool {
        let operations = history.operations.filter { $0.effectiveOutcome != .fail }
        let required = operations.map { $0.effectiveOutcome != .info }
        var used = [Bool](repeating: false, count: operations.count)

        func search(_ value: [UInt8]?, _ remainingRequired: Int) -> Bool {
            if remainingRequired == 0 { return true }
            for (index, operation) in operations.enumerated() where !used[index] {
                // Real time: nothing still unused may have completed before this one began.
                let blocked = operations.indices.contains { other in
                    !used[other] && other != index && required[other]
                        && operations[other].completionPosition! < operation.invocationPosition
                }
                if blocked { continue }
                var next = value
                switch (operation.kind, operation.effectiveOutcome) {
                case (.read, .ok(let read)):
                    if read != value { continue }
                case (.read, _):
                    break
                case (.write(let written), _):
                    next = written
                case (.compareAndSet(let expected, let new), .ok):
                    if expected != value { continue }
                    next = new
                case (.compareAndSet(let expected, let new), _):
                    if expected == value { next = new }
                }
                used[index] = true
                let found = search(next, remainingRequired - (required[index] ? 1 : 0))
                used[index] = false
                if found { return true }
            }
            return false
        }
        return search(nil, required.filter { $0 }.count)
    }
}
