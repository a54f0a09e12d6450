import Testing

@testable import CohortSim

@Suite struct SimulationTests {
    @Test func sameSeedGivesSameTraceHashAndDifferentSeedsDiffer() {
        let options = SimulationOptions(ticks: 300, livenessTicksMax: 800)
        let first = runSimulation(seed: 11, options: options)
        let again = runSimulation(seed: 11, options: options)
        let other = runSimulation(seed: 12, options: options)
        #expect(first.traceHash == again.traceHash)
        #expect(first.eventsProcessed == again.eventsProcessed)
        #expect(first.traceHash != other.traceHash)
    }

    @Test func faultListsParseAndPrint() {
        #expect(FaultSet(parsing: "all") == .all)
        #expect(FaultSet(parsing: "none") == FaultSet.none)
        #expect(FaultSet(parsing: "crash,drop")?.description == "drop,crash")
        #expect(FaultSet(parsing: "drop,meteor") == nil)
        let options = SimulationOptions(faults: FaultSet(parsing: "drop,crash")!, ticks: 500)
        #expect(
            options.replayCommand(seed: 7, nodeCount: 3)
                == "cohort sim --seed 7 --nodes 3 --faults drop,crash --ticks 500")
    }
}
