/// Runs one seed of the deterministic simulator and reports what it found. The same seed and
/// options always give the same result, including `traceHash`.
public func runSimulation(seed: UInt64, options: SimulationOptions = SimulationOptions())
    -> SimulationResult
{
    Simulation(seed: seed, options: options).run()
}

/// Runs the seeds `firstSeed ..< firstSeed + count` in order and aggregates them. `onResult`
/// sees each result as it completes (for progress output); it is not called concurrently.
public func runSeeds(
    firstSeed: UInt64 = 0, count: Int, options: SimulationOptions = SimulationOptions(),
    onResult: (SimulationResult) -> Void = { _ in }
) -> SimulationSummary {
    precondition(count >= 0, "seed count \(count) is negative")
    var summary = SimulationSummary(
        seedsRun: 0, failures: [], eventsProcessed: 0, clientOperations: 0, elections: 0,
        crashes: 0, combinedTraceHash: 0)
    var hasher = TraceHasher()
    for offset in 0..<count {
        let result = runSimulation(seed: firstSeed &+ UInt64(offset), options: options)
        onResult(result)
        summary.seedsRun += 1
        summary.eventsProcessed += result.eventsProcessed
        summary.clientOperations += result.clientOperations
        summary.elections += result.elections
        summary.crashes += result.crashes
        hasher.combine(result.traceHash)
        if !result.passed { summary.failures.append(result) }
    }
    summary.combinedTraceHash = hasher.value
    return summary
}
