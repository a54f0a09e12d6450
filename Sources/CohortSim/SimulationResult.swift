/// What one seed's run did and found.
public struct SimulationResult: Hashable, Sendable, CustomStringConvertible {
    /// The seed.
    public var seed: UInt64
    /// The options the run was given.
    public var options: SimulationOptions
    /// What the seed chose (swarm parameters).
    public var parameters: SimulationParameters
    /// Events the scheduler processed.
    public var eventsProcessed: Int
    /// Simulated time at the end, in microseconds.
    public var simulatedMicros: UInt64
    /// Times a node became leader.
    public var elections: Int
    /// The highest commit index any node reached.
    public var commitIndexMax: UInt64
    /// Client operations invoked.
    public var clientOperations: Int
    /// Client operations that completed `ok`.
    public var clientOperationsSucceeded: Int
    /// Client operations that ended indeterminate (timeouts).
    public var clientOperationsIndeterminate: Int
    /// Writes acknowledged to clients.
    public var writesAcknowledged: Int
    /// Node crashes injected.
    public var crashes: Int
    /// Partitions injected.
    public var partitions: Int
    /// Membership changes the leader accepted.
    public var membershipChanges: Int
    /// Nodes that joined as learners and became voters.
    public var learnersPromoted: Int
    /// Times a leader's commit index advanced onto an entry of an earlier term (each is also
    /// a violation): zero for a correct Raft.
    public var previousTermCommitPoints: Int
    /// Snapshots nodes took or installed (their snapshot index grew).
    public var snapshotsTaken: Int
    /// Unsynced disk writes crashes destroyed.
    public var diskWritesLost: Int
    /// Whether the liveness phase saw a new write committed within its bound.
    public var livenessReached: Bool
    /// Linearizability verdict, `"skipped"` when not checked.
    public var linearizability: String
    /// The workload keyspace: whether the operator created it, writes its clients had
    /// acknowledged, commands nodes served for another node's client (proxied), member moves
    /// the cluster accepted, and groups a node opened again after closing them.
    public var keyspace = KeyspaceCounters()
    /// Everything found wrong; empty when the seed passes.
    public var violations: [SimulationViolation]
    /// FNV-1a over every processed event: equal for two runs of one seed.
    public var traceHash: UInt64
    /// The last events, when `SimulationOptions.traceLinesMax` asked for them.
    public var traceTail: [String]

    /// True when nothing was found wrong.
    public var passed: Bool { violations.isEmpty }

    /// The command that replays this run exactly.
    public var replayCommand: String {
        options.replayCommand(seed: seed, nodeCount: parameters.nodeCount)
    }

    /// A few lines: verdict, counters, parameters, violations, and the replay command when the
    /// seed failed.
    public var description: String {
        var lines: [String] = []
        let verdict = passed ? "PASS" : "FAIL"
        lines.append(
            "seed \(seed) \(verdict): events=\(eventsProcessed)"
                + " simulated=\(simulatedMicros / 1_000)ms elections=\(elections)"
                + " commitIndex=\(commitIndexMax) ops=\(clientOperations)"
                + " ok=\(clientOperationsSucceeded) info=\(clientOperationsIndeterminate)"
                + " acked=\(writesAcknowledged) crashes=\(crashes) partitions=\(partitions)"
                + " membership=\(membershipChanges) promoted=\(learnersPromoted)"
                + " snapshots=\(snapshotsTaken)"
                + " lostUnsynced=\(diskWritesLost) oldTermCommits=\(previousTermCommitPoints)"
                + " liveness=\(livenessReached)"
                + " linearizability=\(linearizability)"
                + " trace=\(String(traceHash, radix: 16))")
        if keyspace.created {
            lines.append(
                "  keyspace: acked=\(keyspace.writesAcknowledged)"
                    + " proxied=\(keyspace.proxiedCommandsServed) moves=\(keyspace.moves)"
                    + " reopened=\(keyspace.reopens)")
        }
        lines.append("  parameters: \(parameters)")
        for violation in violations.prefix(Self.violationsPrintedMax) {
            lines.append("  violation: \(violation)")
        }
        if violations.count > Self.violationsPrintedMax {
            lines.append("  … \(violations.count - Self.violationsPrintedMax) more violations")
        }
        if !passed {
            lines.append("  replay: \(replayCommand)")
        }
        return lines.joined(separator: "\n")
    }

    /// Violations listed in `description`; the rest are counted.
    static let violationsPrintedMax = 10
}

/// What a run did with its workload keyspace (see ``SimulationResult/keyspace``).
public struct KeyspaceCounters: Hashable, Sendable {
    public var created = false
    public var writesAcknowledged = 0
    public var proxiedCommandsServed = 0
    public var moves = 0
    public var reopens = 0

    public init() {}
}
