import CohortReplication
import Testing

@testable import CohortSim

/// Fixed seeds of the correct system: every one must pass every check and make progress, and
/// together they must cover each feature. Searching a fixed range (rather than naming one seed
/// per feature) keeps the test meaningful when Raft's behavior, and so each seed's run,
/// changes.
@Suite struct SimulationScenarioTests {
    static let seeds: ClosedRange<UInt64> = 1...30
    static let options = SimulationOptions(ticks: 600, livenessTicksMax: 1_500)

    @Test func fixedSeedsAreCleanMakeProgressAndCoverEveryFeature() {
        let results = Self.seeds.map { runSimulation(seed: $0, options: Self.options) }
        for result in results {
            #expect(result.passed, "\(result)")
            #expect(result.livenessReached, "\(result)")
            #expect(result.commitIndexMax > 0 && result.writesAcknowledged > 0, "\(result)")
            #expect(result.linearizability == "ok", "\(result)")
        }
        let electionsUnderPartitions = results.filter { $0.partitions > 0 && $0.elections > 1 }
        let crashesLosingUnsyncedWrites = results.filter { $0.crashes > 0 && $0.diskWritesLost > 0 }
        let nodesAddedOnline = results.filter { $0.membershipChanges > 0 }
        let leaderModeSeeds = results.filter { $0.parameters.ackMode == .leader }
        let sessionAndStaleReads = results.filter {
            $0.parameters.sessionReadPercent > 0 && $0.parameters.staleReadPercent > 0
        }
        #expect(!electionsUnderPartitions.isEmpty)
        #expect(!crashesLosingUnsyncedWrites.isEmpty)
        #expect(!nodesAddedOnline.isEmpty)
        #expect(!leaderModeSeeds.isEmpty)
        #expect(!sessionAndStaleReads.isEmpty)
        #expect(results.contains { $0.snapshotsTaken > 0 })
        #expect(results.contains { $0.learnersPromoted > 0 })
        // The node shell in simulation: keyspaces created through the cluster, written to,
        // served to other nodes' clients (proxied), and their groups closed and reopened as
        // the operator moves members.
        let keyspaceSeeds = results.filter { $0.keyspace.created }
        #expect(keyspaceSeeds.contains { $0.keyspace.writesAcknowledged > 0 })
        #expect(keyspaceSeeds.contains { $0.keyspace.proxiedCommandsServed > 0 })
        #expect(keyspaceSeeds.contains { $0.keyspace.moves > 0 })
        #expect(keyspaceSeeds.contains { $0.keyspace.reopens > 0 })
    }

    @Test func parametersAreLoggedAndReplayKeepsTheOtherDraws() {
        let result = runSimulation(seed: 5, options: Self.options)
        #expect(result.description.contains("parameters: nodes=\(result.parameters.nodeCount)"))
        // Naming the drawn cluster size explicitly (as the replay command does) replays the
        // same run.
        var replay = Self.options
        replay.nodeCount = result.parameters.nodeCount
        let replayed = runSimulation(seed: 5, options: replay)
        #expect(replayed.traceHash == result.traceHash)
        #expect(replayed.parameters == result.parameters)
    }

    @Test func healthyNetworkWithoutFaultsCommitsEveryAcknowledgedWrite() {
        let options = SimulationOptions(nodeCount: 3, faults: .none, ticks: 300)
        let result = runSimulation(seed: 3, options: options)
        #expect(result.passed, "\(result)")
        #expect(result.crashes == 0 && result.partitions == 0)
        #expect(result.writesAcknowledged > 0)
    }

    @Test func livenessBoundIsEnforced() {
        // No write can be invoked and acknowledged in zero time after healing.
        let options = SimulationOptions(
            nodeCount: 3, faults: .none, ticks: 100, livenessTicksMax: 0)
        let result = runSimulation(seed: 1, options: options)
        #expect(!result.passed)
        #expect(result.violations.first?.kind == .liveness)
        #expect(result.description.contains("replay: cohort sim --seed 1 --nodes 3 --faults none"))
    }

    @Test func clientChecksAloneAcceptTheCorrectSystem() {
        let options = SimulationOptions(ticks: 400, checksRaftSafety: false)
        for seed in 1...3 as ClosedRange<UInt64> {
            let result = runSimulation(seed: seed, options: options)
            #expect(result.passed, "\(result)")
        }
    }
}
