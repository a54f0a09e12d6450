/// The aggregate of many seeds' runs.
public struct SimulationSummary: Hashable, Sendable, CustomStringConvertible {
    /// Seeds run.
    public var seedsRun: Int
    /// Results of the seeds that failed, in seed order.
    public var failures: [SimulationResult]
    /// Events processed over all seeds.
    public var eventsProcessed: Int
    /// Client operations over all seeds.
    public var clientOperations: Int
    /// Elections over all seeds.
    public var elections: Int
    /// Crashes over all seeds.
    public var crashes: Int
    /// Trace hashes folded in seed order: one number that changes if any seed's run changes.
    public var combinedTraceHash: UInt64

    /// True when every seed passed.
    public var passed: Bool { failures.isEmpty }

    /// One line of totals, then each failure's description.
    public var description: String {
        var lines = [
            "\(seedsRun) seeds, \(failures.count) failed: events=\(eventsProcessed)"
                + " ops=\(clientOperations) elections=\(elections) crashes=\(crashes)"
                + " combinedTrace=\(String(combinedTraceHash, radix: 16))"
        ]
        for failure in failures { lines.append(failure.description) }
        return lines.joined(separator: "\n")
    }
}
