import Testing

@testable import CohortSim

/// The leaderless keyspace in the simulator (issue 19, item 9): correct groups pass seeds with
/// crashes, partitions and loss, having done real work; each broken variant is caught within a
/// bounded search of seeds; a seed replays exactly.
@Suite struct LeaderlessSimulationTests {
    static let seedsMax: UInt64 = 200

    @Test func correctGroupsPassSeedsWithFaultsAndDoRealWork() {
        var siblingReads = 0
        var repairedByAntiEntropy = 0
        for seed: UInt64 in 0..<24 {
            let result = runLeaderlessSimulation(seed: seed)
            #expect(
                result.passed, "\(result.summary)\n\(result.violations.joined(separator: "\n"))")
            #expect(result.writesAcknowledged > 20, "\(result.summary)")
            #expect(result.readsAnswered > 20, "\(result.summary)")
            #expect(result.convergenceMillis != nil)
            siblingReads += result.readsWithSiblings
            repairedByAntiEntropy += result.antiEntropyKeysRepaired
        }
        #expect(siblingReads > 0, "blind writes must produce siblings somewhere")
        #expect(repairedByAntiEntropy > 0, "faults must leave anti-entropy something to repair")
    }

    @Test func aSeedReplaysExactly() {
        let first = runLeaderlessSimulation(seed: 42)
        let second = runLeaderlessSimulation(seed: 42)
        #expect(first.traceHash == second.traceHash)
        #expect(first.writesAcknowledged == second.writesAcknowledged)
        #expect(runLeaderlessSimulation(seed: 43).traceHash != first.traceHash)
    }

    @Test(arguments: LeaderlessBrokenVariant.allCases)
    func brokenVariantIsCaughtWithinBoundedSeeds(_ variant: LeaderlessBrokenVariant) {
        var options = LeaderlessSimulationOptions()
        options.broken = variant
        options.convergenceMillisMax = 5_000
        let caught = (0..<Self.seedsMax).first { seed in
            !runLeaderlessSimulation(seed: seed, options: options).passed
        }
        #expect(caught != nil, "\(variant) was not caught in \(Self.seedsMax) seeds")
    }
}
