import Testing

@testable import CohortSim

/// The simulator proves it can fail (DESIGN.md §6): each deliberately broken variant, of the
/// Raft core or of the production group's policy, must be caught by a safety check within a
/// bounded, deterministic search of seeds (issue 17: 200).
@Suite struct BrokenVariantTests {
    /// The most seeds searched per variant.
    static let seedsMax: UInt64 = 200

    struct Case: Sendable, CustomTestStringConvertible {
        var variant: BrokenVariant
        var nodeCount: Int?
        var faults: FaultSet
        /// Whether the search checks linearizability (slower; some variants show only there).
        var checksLinearizability = false
        var testDescription: String { variant.rawValue }
    }

    static let cases: [Case] = [
        Case(variant: .sessionReadBeforeApplied, nodeCount: nil, faults: .all),
        Case(variant: .leaderAckBeforeDurable, nodeCount: nil, faults: .all),
        Case(variant: .staleReadUnbounded, nodeCount: nil, faults: .all),
        Case(variant: .forwardRetryDuplicates, nodeCount: nil, faults: .all),
        // A keyspace write served twice brings an old value back after later writes.
        Case(
            variant: .proxiedServedTwice, nodeCount: nil, faults: .all,
            checksLinearizability: true),
        Case(variant: .grantMultipleVotesPerTerm, nodeCount: nil, faults: .all),
        Case(variant: .voteNotPersisted, nodeCount: 3, faults: FaultSet([.crash])),
        Case(variant: .skipTermCheck, nodeCount: 5, faults: FaultSet([.partition])),
        Case(variant: .commitPreviousTermByCounting, nodeCount: nil, faults: FaultSet([.crash])),
    ]

    @Test(arguments: cases) func brokenVariantIsCaughtWithinBoundedSeeds(_ testCase: Case) {
        let options = SimulationOptions(
            nodeCount: testCase.nodeCount, faults: testCase.faults, ticks: 1_000,
            brokenVariant: testCase.variant,
            checksLinearizability: testCase.checksLinearizability)
        var caught: SimulationResult?
        for seed in 1...Self.seedsMax {
            let result = runSimulation(seed: seed, options: options)
            // A liveness failure alone is not proof: insist on a broken safety property.
            if result.violations.contains(where: { $0.kind != .liveness }) {
                caught = result
                break
            }
        }
        #expect(caught != nil, "\(testCase.variant) survived \(Self.seedsMax) seeds")
        if let caught {
            #expect(caught.replayCommand.contains("--broken \(testCase.variant.rawValue)"))
            #expect(caught.description.contains("replay: cohort sim --seed \(caught.seed)"))
        }
    }

    @Test func correctSystemPassesTheSameSearchOptions() {
        for testCase in Self.cases {
            let options = SimulationOptions(
                nodeCount: testCase.nodeCount, faults: testCase.faults, ticks: 400)
            let result = runSimulation(seed: 4, options: options)
            #expect(result.passed, "\(result)")
        }
    }
}
