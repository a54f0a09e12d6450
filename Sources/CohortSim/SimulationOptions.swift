/// What a run may do; the seed decides the rest (swarm testing). These are the fields of the
/// `cohort sim` command line.
public struct SimulationOptions: Hashable, Sendable {
    /// Cluster size; nil lets the seed choose 3 to 5. The seed's draw happens either way, so
    /// `--nodes K` with the drawn K replays a run exactly.
    public var nodeCount: Int?
    /// Fault kinds the seed may enable (each seed enables a random subset).
    public var faults: FaultSet
    /// Length of the safety phase (faults on), in nominal node ticks of
    /// `SimulationOptions.tickMicros` simulated microseconds.
    public var ticks: Int
    /// Bound of the liveness phase: after healing, a leader must commit new writes within
    /// this many nominal ticks.
    public var livenessTicksMax: Int
    /// A deliberately broken variant the run must catch, or nil for the correct system.
    public var brokenVariant: BrokenVariant?
    /// Checks the client history for linearizability at the end (the costliest check).
    public var checksLinearizability: Bool
    /// Keeps the last this many event descriptions in the result, for debugging a seed.
    public var traceLinesMax: Int
    /// Ends the run at the first violation (the replay command still reproduces it).
    public var stopsAtFirstViolation: Bool
    /// Runs the Raft safety checker (and the §5.4.2 commit check) after every event. Turning
    /// it off shows what clients alone would notice: lost writes, non-linearizable reads.
    public var checksRaftSafety: Bool

    /// Simulated microseconds in one nominal tick (node clocks drift around it).
    public static let tickMicros: UInt64 = 10_000

    /// Options of a run: by default every fault kind, a seed-chosen cluster size, 2,000
    /// ticks (20 simulated seconds) of faults and up to 1,500 ticks to recover.
    public init(
        nodeCount: Int? = nil, faults: FaultSet = .all, ticks: Int = 2_000,
        livenessTicksMax: Int = 1_500, brokenVariant: BrokenVariant? = nil,
        checksLinearizability: Bool = true, traceLinesMax: Int = 0,
        stopsAtFirstViolation: Bool = true, checksRaftSafety: Bool = true
    ) {
        precondition(
            nodeCount.map { (1...9).contains($0) } ?? true,
            "nodeCount \(nodeCount ?? 0) is outside 1...9")
        precondition(ticks >= 0, "ticks \(ticks) is negative")
        self.nodeCount = nodeCount
        self.faults = faults
        self.ticks = ticks
        self.livenessTicksMax = livenessTicksMax
        self.brokenVariant = brokenVariant
        self.checksLinearizability = checksLinearizability
        self.traceLinesMax = traceLinesMax
        self.stopsAtFirstViolation = stopsAtFirstViolation
        self.checksRaftSafety = checksRaftSafety
    }

    /// The one-line command that replays `seed` with these options on a cluster of
    /// `nodeCount` nodes (the count the run used).
    public func replayCommand(seed: UInt64, nodeCount: Int) -> String {
        var command = "cohort sim --seed \(seed) --nodes \(nodeCount) --faults \(faults)"
        command += " --ticks \(ticks)"
        if let brokenVariant {
            command += " --broken \(brokenVariant.rawValue)"
        }
        return command
    }
}
