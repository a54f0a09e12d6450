import ArgumentParser
import CohortNet
import CohortSim
import Foundation

/// `cohort sim`: runs the deterministic simulator (a cluster of production nodes with Redis
/// clients, faults and checkers in one thread) for one seed or many, and prints what it found.
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run the deterministic cluster simulator.",
        discussion: """
            Each seed gives one exact run: swarm parameters, faults, elections, client \
            histories. A failing seed prints the one-line command that replays it. Run with \
            SWIFT_DETERMINISTIC_HASHING=1 for bit-identical traces across processes.
            """
    )

    @Option(
        name: .long,
        help:
            "Replication strategy to simulate: single-leader (the production cluster node, default) or leaderless (a Dynamo-style keyspace's groups)."
    )
    var strategy: String = "single-leader"
    @Option(
        name: .long,
        help:
            "Leaderless: sloppy quorums with hinted handoff, on or off (default: each seed chooses)."
    )
    var sloppy: String?
    @Option(name: .long, help: "Run exactly this seed.") var seed: UInt64?
    @Option(name: .long, help: "Run this many seeds (default 100).") var seeds: Int?
    @Option(name: .customLong("first-seed"), help: "First seed of a --seeds run (default 0).")
    var firstSeed: UInt64 = 0
    @Option(name: .long, help: "Cluster size 1...9 (default: the seed chooses 3 to 5).")
    var nodes: Int?
    @Option(
        name: .long,
        help:
            "Fault kinds the seeds may use: a comma list of drop, duplicate, reorder, partition, crash, clock; 'all' or 'none'."
    )
    var faults: String = "all"
    @Option(name: .long, help: "Ticks of the safety phase (faults on).") var ticks: Int = 2_000
    @Option(
        name: .long,
        help:
            "A deliberately broken variant to run: \(BrokenVariant.allCases.map(\.rawValue).joined(separator: ", ")); leaderless: \(LeaderlessBrokenVariant.allCases.map(\.rawValue).joined(separator: ", "))."
    )
    var broken: String?
    @Flag(name: .customLong("skip-linearizability"), help: "Skip the history check (faster).")
    var skipLinearizability = false
    @Flag(name: .long, help: "Print every seed's result, not only failures.") var verbose = false
    @Option(name: .customLong("trace-lines"), help: "Keep this many last events of a seed.")
    var traceLines: Int = 0
    @Option(
        name: .long,
        help:
            "Seeds run at once on this many threads (default: one per core). Results and the combined trace hash do not depend on it."
    )
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        if seed != nil && seeds != nil { throw ValidationError("give --seed or --seeds, not both") }
        if let nodes, !(1...9).contains(nodes) { throw ValidationError("--nodes must be in 1...9") }
        if FaultSet(parsing: faults) == nil {
            throw ValidationError("unknown fault list '\(faults)'")
        }
        guard strategy == "single-leader" || strategy == "leaderless" else {
            throw ValidationError("unknown strategy '\(strategy)': single-leader or leaderless")
        }
        if let broken, strategy == "single-leader", BrokenVariant(rawValue: broken) == nil {
            throw ValidationError("unknown broken variant '\(broken)'")
        }
        if let broken, strategy == "leaderless", LeaderlessBrokenVariant(rawValue: broken) == nil {
            throw ValidationError("unknown leaderless broken variant '\(broken)'")
        }
        if let sloppy, sloppy != "on" && sloppy != "off" {
            throw ValidationError("--sloppy takes on or off")
        }
        if ticks < 0 { throw ValidationError("--ticks must not be negative") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func run() throws {
        if strategy == "leaderless" {
            try runLeaderless()
            return
        }
        let options = SimulationOptions(
            nodeCount: nodes, faults: FaultSet(parsing: faults) ?? .all, ticks: ticks,
            brokenVariant: broken.flatMap(BrokenVariant.init(rawValue:)),
            checksLinearizability: !skipLinearizability, traceLinesMax: traceLines)
        let started = WallClock.monotonicNanos()
        let (results, workers) = runSeeds { runSimulation(seed: $0, options: options) }
        let count = results.count
        var hasher = TraceHasher()
        var events = 0
        var operations = 0
        var elections = 0
        var crashes = 0
        var failures = 0
        var commitsMax: UInt64 = 0
        for result in results {
            events += result.eventsProcessed
            operations += result.clientOperations
            elections += result.elections
            crashes += result.crashes
            commitsMax = max(commitsMax, result.commitIndexMax)
            hasher.combine(result.traceHash)
            if !result.passed { failures += 1 }
            if verbose || !result.passed || count == 1 {
                print(result.description)
                if !result.traceTail.isEmpty { print(result.traceTail.joined(separator: "\n")) }
            }
        }
        let seconds = Double(WallClock.monotonicNanos() - started) / 1e9
        print(
            "\(count) seeds, \(failures) failed: events=\(events) ops=\(operations) "
                + "elections=\(elections) crashes=\(crashes) "
                + "combinedTrace=\(String(hasher.value, radix: 16))")
        print(
            String(
                format:
                    "wall %.2f s on %d threads, %.0f simulated events/s, %.1f seeds/s, highest commit index %llu",
                seconds, workers, Double(events) / max(seconds, 1e-9),
                Double(count) / max(seconds, 1e-9), commitsMax))
        if failures > 0 { throw ExitCode(1) }
    }
}

extension SimCommand {
    /// Runs `--seed`, or `--seeds` from `--first-seed`, on up to `--jobs` threads; returns the
    /// results in seed order and the threads used. Each seed is independent and the simulator
    /// is pure, so results combined in seed order are exactly what one thread would give.
    func runSeeds<Result: Sendable>(
        _ run: @escaping @Sendable (UInt64) -> Result
    ) -> (results: [Result], workers: Int) {
        let first = seed ?? firstSeed
        let count = seed == nil ? (seeds ?? 100) : 1
        let results = SeedResults<Result>(count: count)
        let workers = min(jobs, max(count, 1))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var offset = worker
            while offset < count {
                results.store(run(first &+ UInt64(offset)), at: offset)
                offset += workers
            }
        }
        return (results.all(), workers)
    }

    /// `--strategy leaderless`: seeds of ``runLeaderlessSimulation(seed:options:)``.
    func runLeaderless() throws {
        var settings = LeaderlessSimulationOptions()
        if let nodes { settings.nodes = max(nodes, 3) }
        settings.faults = faults != "none"
        settings.sloppy = sloppy.map { $0 == "on" }
        settings.broken = broken.flatMap(LeaderlessBrokenVariant.init(rawValue:))
        let options = settings
        let started = WallClock.monotonicNanos()
        let (results, workers) = runSeeds { runLeaderlessSimulation(seed: $0, options: options) }
        let count = results.count
        var hasher = TraceHasher()
        var failures = 0
        var acknowledged = 0
        var siblingReads = 0
        for result in results {
            hasher.combine(result.traceHash)
            acknowledged += result.writesAcknowledged
            siblingReads += result.readsWithSiblings
            if !result.passed { failures += 1 }
            if verbose || !result.passed || count == 1 {
                print(result.summary)
                for violation in result.violations { print("  " + violation) }
                if !result.passed {
                    let variant = broken.map { " --broken \($0)" } ?? ""
                    print(
                        "  replay: cohort sim --strategy leaderless --seed \(result.seed)\(variant)"
                    )
                }
            }
        }
        let seconds = Double(WallClock.monotonicNanos() - started) / 1e9
        print(
            "\(count) leaderless seeds, \(failures) failed: writes acknowledged=\(acknowledged) "
                + "reads with siblings=\(siblingReads) combinedTrace=\(String(hasher.value, radix: 16))"
        )
        print(String(format: "wall %.2f s on %d threads", seconds, workers))
        if failures > 0 { throw ExitCode(1) }
    }
}

/// Results of a multi-threaded run, one slot per seed.
final class SeedResults<Result>: @unchecked Sendable {
    private var slots: [Result?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ result: Result, at offset: Int) {
        lock.lock()
        slots[offset] = result
        lock.unlock()
    }

    /// Every result in seed order; all slots must be filled.
    func all() -> [Result] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { slot in
            guard let slot else { preconditionFailure("a seed produced no result") }
            return slot
        }
    }
}
