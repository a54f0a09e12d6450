import CohortCore

/// The linearizability search for the operations of one key (a register with read, write and
/// compare-and-set): Wing & Gong's depth-first search with Lowe's cache of visited
/// configurations, as in Lowe, "Testing for linearizability" (2017) and porcupine.
///
/// Events are kept in a doubly linked list ordered by logical time. Walking the list from the
/// front, the search tries to linearize each call it meets (apply it to the register, then lift
/// the call and its return out of the list); meeting a return means that operation's deadline
/// has passed without it being linearized, so the search backtracks. A configuration is the set
/// of linearized operations (a bitset) plus the register value; one already visited is never
/// explored again, which makes the search polynomial on typical histories.
///
/// `info` and pending operations return at +infinity: they may be linearized anywhere after their
/// invocation, and leaving them unlinearized at the end means they never took effect. `fail`
/// operations and indeterminate reads are dropped: they cannot change the register.
struct RegisterSearch {
    /// A register operation with values interned to small integers.
    private enum Step {
        case read(Int32)
        case write(Int32)
        /// A compare-and-set reported ok: applicable only when the value matches.
        case compareAndSet(expected: Int32, new: Int32)
        /// A compare-and-set whose outcome is unknown. It is linearized only where it matches:
        /// one that does nothing might as well take effect never.
        case compareAndSetIndeterminate(expected: Int32, new: Int32)
    }

    /// A visited configuration. The hash is maintained incrementally (Zobrist hashing), so
    /// hashing costs one combine regardless of the bitset's length.
    private struct Configuration: Hashable {
        var words: [UInt64]
        var value: Int32
        var hash: UInt64

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }

        static func == (lhs: Configuration, rhs: Configuration) -> Bool {
            lhs.hash == rhs.hash && lhs.value == rhs.value && lhs.words == rhs.words
        }
    }

    private let key: [UInt8]
    private let operations: [Operation]
    private let stepsMax: Int
    private var values: [[UInt8]?] = []
    private var valueIDs: [[UInt8]?: Int32] = [:]

    /// Creates a search over the operations of one key.
    init(key: [UInt8], operations: [Operation], initialValue: [UInt8]?, stepsMax: Int) {
        self.key = key
        self.operations = operations
        self.stepsMax = stepsMax
        _ = intern(initialValue)
    }

    private mutating func intern(_ value: [UInt8]?) -> Int32 {
        if let id = valueIDs[value] { return id }
        let id = Int32(values.count)
        values.append(value)
        valueIDs[value] = id
        return id
    }

    /// Scrambles a 64-bit value (SplitMix64's finalizer) for Zobrist keys.
    private static func mix(_ input: UInt64) -> UInt64 {
        var generator = SplitMix64(seed: input)
        return generator.next()
    }

    /// Runs the search and returns the verdict with its step count.
    mutating func run() -> (result: LinearizabilityResult, steps: Int) {
        // Values that an ok operation can observe: read results and expected values of ok
        // compare-and-sets, closed under "an indeterminate compare-and-set producing an
        // observable value makes its expected value observable".
        var observable = Set<[UInt8]?>()
        for operation in operations {
            guard case .ok(let read) = operation.effectiveOutcome else { continue }
            switch operation.kind {
            case .read: observable.insert(read)
            case .compareAndSet(let expected, _): observable.insert(expected)
            case .write: break
            }
        }
        var grew = true
        while grew {
            grew = false
            for operation in operations where operation.effectiveOutcome == .info {
                if case .compareAndSet(let expected, let new) = operation.kind,
                    observable.contains(new), observable.insert(expected).inserted
                {
                    grew = true
                }
            }
        }

        // The operations to linearize. An indeterminate write or compare-and-set whose new value
        // nothing observes is dropped: "never took effect" explains anything it could.
        var included: [Operation] = []
        var steps: [Step] = []
        var isRequired: [Bool] = []
        for operation in operations {
            switch (operation.effectiveOutcome, operation.kind) {
            case (.fail, _), (.info, .read):
                continue
            case (.ok(let read), .read):
                steps.append(.read(intern(read)))
            case (.ok, .write(let value)):
                steps.append(.write(intern(value)))
            case (.ok, .compareAndSet(let expected, let new)):
                steps.append(.compareAndSet(expected: intern(expected), new: intern(new)))
            case (.info, .write(let value)):
                guard observable.contains(value) else { continue }
                steps.append(.write(intern(value)))
            case (.info, .compareAndSet(let expected, let new)):
                guard observable.contains(new) else { continue }
                steps.append(
                    .compareAndSetIndeterminate(expected: intern(expected), new: intern(new)))
            }
            included.append(operation)
            isRequired.append(operation.effectiveOutcome != .info)
        }
        let requiredCount = isRequired.lazy.filter { $0 }.count
        if requiredCount == 0 { return (.linearizable, 0) }

        // The event list. Node 0 is the head sentinel; operation j has its call at node 2j+1
        // and its return at node 2j+2. Indeterminate returns sort after everything.
        let count = included.count
        let nodeCount = 2 * count + 1
        var order: [(time: Int, node: Int)] = []
        order.reserveCapacity(2 * count)
        for (j, operation) in included.enumerated() {
            order.append((operation.invocationPosition, 2 * j + 1))
            let returnTime = isRequired[j] ? operation.completionPosition! : Int.max
            order.append((returnTime, 2 * j + 2))
        }
        order.sort { $0.time != $1.time ? $0.time < $1.time : $0.node < $1.node }
        var next = [Int](repeating: -1, count: nodeCount)
        var previous = [Int](repeating: -1, count: nodeCount)
        var last = 0
        for (_, node) in order {
            next[last] = node
            previous[node] = last
            last = node
        }

        let wordCount = (count + 63) / 64
        var words = [UInt64](repeating: 0, count: wordCount)
        var bitsHash: UInt64 = 0
        let operationHashes = (0..<count).map { Self.mix(UInt64($0) &* 0x100_0000_01B3 &+ 1) }
        var value: Int32 = 0
        var linearizedRequired = 0
        var cache = Set<Configuration>()
        var stack: [(node: Int, value: Int32)] = []
        // The deepest dead end so far, kept as plain indices (cheap to copy); the explanation is
        // built from it only if the verdict is negative.
        var best: DeadEnd? = nil
        var stepCount = 0

        func apply(_ step: Step, to value: Int32) -> Int32? {
            switch step {
            case .read(let read): return read == value ? value : nil
            case .write(let written): return written
            case .compareAndSet(let expected, let new): return expected == value ? new : nil
            case .compareAndSetIndeterminate(let expected, let new):
                return expected == value ? new : nil
            }
        }

        // The value each operation needs to find in the register, if any, and the value each
        // indeterminate operation writes.
        let consumes: [Int32?] = steps.map { step in
            switch step {
            case .read(let read): return read
            case .write: return nil
            case .compareAndSet(let expected, _), .compareAndSetIndeterminate(let expected, _):
                return expected
            }
        }
        let produces: [Int32?] = steps.map { step in
            switch step {
            case .read: return nil
            case .write(let written): return written
            case .compareAndSet(_, let new), .compareAndSetIndeterminate(_, let new): return new
            }
        }

        // Lowe's just-in-time idea applied to indeterminate operations: if a linearization
        // exists, one exists in which every indeterminate operation either never takes effect
        // or takes effect right before an operation that needs its value. That operation's call
        // is then in the window of calls before the first pending return, so an indeterminate
        // operation need only be tried while a call in the window wants its value. This prunes
        // the 2^k interleavings of k unobserved timeouts.
        // Consumers of each value not yet linearized: a cheap first filter for `isWanted`, so
        // that stale indeterminate operations cost O(1) per visit instead of a window walk.
        var consumersLeft = [Int](repeating: 0, count: values.count)
        for case let consumed? in consumes { consumersLeft[Int(consumed)] += 1 }

        func isWanted(_ j: Int, next: [Int]) -> Bool {
            guard let produced = produces[j], consumersLeft[Int(produced)] > 0 else { return false }
            var node = next[0]
            while node != -1, node % 2 == 1 {
                let k = (node - 1) / 2
                if k != j, consumes[k] == produced { return true }
                node = next[node]
            }
            return false
        }

        var entry = next[0]
        while entry != -1 {
            stepCount += 1
            if stepCount > stepsMax {
                return (
                    .unknown(
                        reason: "key \(ByteStringText.render(key)): step budget of \(stepsMax) "
                            + "exhausted after linearizing up to \(best?.prefix.count ?? 0)"
                            + " of \(requiredCount) operations"),
                    stepCount
                )
            }
            let j = (entry - 1) / 2
            if entry % 2 == 1 {
                // A call: try to linearize operation j now. An indeterminate operation is tried
                // only while some other pending operation wants the value it produces (see
                // `isWanted`).
                if isRequired[j] || isWanted(j, next: next),
                    let newValue = apply(steps[j], to: value)
                {
                    words[j >> 6] |= 1 << UInt64(j & 63)
                    let newHash = bitsHash ^ operationHashes[j]
                    let configuration = Configuration(
                        words: words, value: newValue, hash: newHash ^ Self.mix(UInt64(newValue)))
                    if cache.insert(configuration).inserted {
                        stack.append((entry, value))
                        value = newValue
                        bitsHash = newHash
                        if isRequired[j] { linearizedRequired += 1 }
                        if let consumed = consumes[j] { consumersLeft[Int(consumed)] -= 1 }
                        if linearizedRequired == requiredCount { return (.linearizable, stepCount) }
                        // Lift the call and its return out of the list.
                        let match = entry + 1
                        next[previous[entry]] = next[entry]
                        previous[next[entry]] = previous[entry]
                        next[previous[match]] = next[match]
                        if next[match] != -1 { previous[next[match]] = previous[match] }
                        entry = next[0]
                        continue
                    }
                    words[j >> 6] &= ~(1 << UInt64(j & 63))
                }
                entry = next[entry]
                continue
            }
            // A return: operation j's deadline passed unlinearized. Only required operations
            // have finite returns before the end; reaching an indeterminate return would mean
            // every required operation is linearized, which returned above.
            precondition(isRequired[j], "reached the return of indeterminate operation \(j)")
            if stack.count > (best?.prefix.count ?? -1) {
                var pending: [Int] = []
                var node = next[0]
                while node != -1, node != entry {
                    if node % 2 == 1 { pending.append((node - 1) / 2) }
                    node = next[node]
                }
                best = DeadEnd(
                    prefix: stack.map { ($0.node - 1) / 2 }, value: value, blocked: j,
                    pending: pending)
            }
            guard let top = stack.popLast() else { break }
            // Unlift: put the return back, then the call.
            let match = top.node + 1
            let k = (top.node - 1) / 2
            next[previous[match]] = match
            if next[match] != -1 { previous[next[match]] = match }
            next[previous[top.node]] = top.node
            previous[next[top.node]] = top.node
            words[k >> 6] &= ~(1 << UInt64(k & 63))
            bitsHash ^= operationHashes[k]
            value = top.value
            if isRequired[k] { linearizedRequired -= 1 }
            if let consumed = consumes[k] { consumersLeft[Int(consumed)] += 1 }
            entry = next[top.node]
        }
        return (
            .notLinearizable(explanation(best!, included: included, requiredCount: requiredCount)),
            stepCount
        )
    }

    /// Builds the explanation for the deepest dead end found so far.
    /// A dead end of the search: the linearized prefix, the value it leaves, the operation whose
    /// return was reached and the calls pending then (all as indexes into the included
    /// operations).
    private struct DeadEnd {
        var prefix: [Int]
        var value: Int32
        var blocked: Int
        var pending: [Int]
    }

    /// Builds the explanation for the deepest dead end.
    private func explanation(_ deadEnd: DeadEnd, included: [Operation], requiredCount: Int)
        -> LinearizabilityExplanation
    {
        LinearizabilityExplanation(
            key: key,
            linearizedPrefix: deadEnd.prefix.map { included[$0] },
            valueAfterPrefix: values[Int(deadEnd.value)],
            blockedOperation: included[deadEnd.blocked],
            pendingOperations: deadEnd.pending.map { included[$0] }.sorted { $0.id < $1.id },
            operationsRequiredCount: requiredCount)
    }
}
