import CohortCheck
import CohortCore
import Testing

@Suite struct LinearizabilityPropertyTests {
    @Test(arguments: 0..<40)
    func historiesOfARealRegisterAreLinearizable(seed: UInt64) {
        let history = RegisterHistoryGenerator().generate(seed: seed)
        let result = LinearizabilityChecker().check(history)
        #expect(result == .linearizable, "seed \(seed):\n\(history.text)")
    }

    @Test(arguments: 0..<40)
    func mutatedReadIsRejected(seed: UInt64) {
        let history = RegisterHistoryGenerator().generate(seed: seed)
        var random = SplitMix64(seed: seed ^ 0xABCD)
        let reads = history.operations.filter {
            $0.kind == .read && $0.outcome.map { if case .ok = $0 { true } else { false } } == true
        }
        let victim = try! #require(reads.randomElement(using: &random))
        let mutated = history.replacingOutcome(of: victim.id, with: .ok(bytes("never-written")))
        let result = LinearizabilityChecker().check(mutated)
        let explanation = try! #require(result.explanation, "seed \(seed): \(result)")
        #expect(explanation.key == victim.key)
        #expect(explanation.blockedOperation.id == victim.id)
    }

    @Test func textFormRoundTripsGeneratedHistories() throws {
        for seed in UInt64(0)..<10 {
            let history = RegisterHistoryGenerator().generate(seed: seed)
            #expect(try History(parsing: history.text) == history)
        }
    }

    @Test func longSingleKeyHistoryChecksWithinBudget() {
        var generator = RegisterHistoryGenerator()
        generator.keys = ["k"]
        generator.operationsCount = 600
        generator.processesCount = 8
        let history = generator.generate(seed: 7)
        let (result, steps) = LinearizabilityChecker().checkWithStatistics(history)
        #expect(result == .linearizable)
        // A bound on work, not time: the cache keeps the search near-linear here.
        #expect(steps < 100_000, "steps \(steps)")
    }
}

@Suite struct NaiveAgreementTests {
    /// Random small single-key histories with arbitrary outcomes, so that both verdicts occur.
    static func randomHistory(seed: UInt64) -> History {
        var random = SplitMix64(seed: seed)
        let values: [[UInt8]?] = [nil, bytes("1"), bytes("2")]
        var history = History()
        var outstanding: [UInt64: OperationID] = [:]
        var invoked = 0
        let operationsCount = Int.random(in: 2...7, using: &random)
        while invoked < operationsCount || !outstanding.isEmpty {
            let process = UInt64.random(in: 0..<3, using: &random)
            if let id = outstanding[process] {
                let outcome: OperationOutcome
                switch Int.random(in: 0..<6, using: &random) {
                case 0: outcome = .info
                case 1: outcome = history[id].kind == .read ? .info : .fail
                default:
                    outcome =
                        history[id].kind == .read
                        ? .ok(values.randomElement(using: &random)!) : .ok(nil)
                }
                history.complete(id, outcome)
                outstanding[process] = nil
            } else if invoked < operationsCount {
                let kind: OperationKind
                switch Int.random(in: 0..<3, using: &random) {
                case 0: kind = .read
                case 1: kind = .write(values.randomElement(using: &random)!)
                default:
                    kind = .compareAndSet(
                        expected: values.randomElement(using: &random)!,
                        new: values.randomElement(using: &random)!)
                }
                outstanding[process] = history.invoke(
                    process: ProcessID(process), key: "k", kind: kind)
                invoked += 1
            }
        }
        return history
    }

    @Test func searchAgreesWithBruteForce() {
        var verdicts = [false: 0, true: 0]
        for seed in UInt64(0)..<3000 {
            let history = Self.randomHistory(seed: seed)
            let expected = NaiveLinearizabilityChecker().isLinearizable(history)
            let result = LinearizabilityChecker().check(history)
            #expect(result.isLinearizable == expected, "seed \(seed): \(result)\n\(history.text)")
            if !expected { #expect(result.explanation != nil, "seed \(seed): \(result)") }
            verdicts[expected, default: 0] += 1
        }
        // Both verdicts must be well represented for the agreement to mean anything.
        #expect(verdicts[false]! > 300 && verdicts[true]! > 300, "\(verdicts)")
    }
}
