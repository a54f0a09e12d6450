import CohortCheck
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
