import CohortRaft
import CohortReplication

/// Everything a seed decided about its run (swarm testing: each seed enables a random subset
/// of the allowed faults at random intensities, so rare combinations get exercised). Logged
/// in every result so a failure can be understood without rerunning it.
public struct SimulationParameters: Hashable, Sendable, CustomStringConvertible {
    /// Voters the cluster starts with.
    public var nodeCount: Int
    /// Extra nodes, outside the cluster at first, that membership changes add and remove.
    public var spareNodeCount: Int
    /// Concurrent simulated clients.
    public var clientCount: Int
    /// Keys the clients touch (few keys: more contention, more interesting histories).
    public var keyCount: Int
    /// Fault kinds this seed enabled (a subset of the options' faults).
    public var faults: FaultSet
    /// Network behavior while faults are on.
    public var network: NetworkConditions
    /// Mean nominal ticks between nemesis actions (partitions, crashes, clock stalls).
    public var nemesisIntervalTicksMean: Int
    /// How long a partition lasts, in nominal ticks, at most.
    public var partitionTicksMax: Int
    /// How long a crashed node stays down, in nominal ticks, at most.
    public var downTicksMax: Int
    /// Probability that a crash takes down several nodes at once (a power failure).
    public var correlatedCrashProbability: Double
    /// Probability of a crash at a crash point (BUGGIFY style): right after a node grants a
    /// vote (with a quick restart), and (as a power loss of every member) right after a write
    /// is acknowledged. These are the moments when state
    /// that is not yet durable, or a leader that vanishes, matter most.
    public var crashPointProbability: Double
    /// Probability that a node crashes within a few ticks of becoming leader, before its
    /// first entries spread: successive short-lived leaders leave logs diverging (the raw
    /// material of Raft Figure 8). Elections are rare, so this can be high.
    public var electionCrashPointProbability: Double
    /// Probability that the nemesis's crash picks the leader rather than any node.
    public var leaderCrashProbability: Double
    /// Probability that a crash leaves some unsynced writes on the platter.
    public var keepsUnsyncedPrefixProbability: Double
    /// Shortest simulated fsync, in microseconds.
    public var fsyncMicrosMin: UInt64
    /// Longest simulated fsync, in microseconds.
    public var fsyncMicrosMax: UInt64
    /// Largest clock drift of a node, in parts per million of the nominal tick.
    public var clockDriftPartsPerMillionMax: Int
    /// Longest clock stall (ticks not delivered), in nominal ticks; zero when off.
    public var clockStallTicksMax: Int
    /// Raft timing and behavior.
    public var electionTimeoutTicksMin: Int
    /// Raft timing and behavior.
    public var electionTimeoutTicksMax: Int
    /// Raft heartbeat interval in ticks.
    public var heartbeatIntervalTicks: Int
    /// Raft pre-vote.
    public var preVote: Bool
    /// Raft check-quorum.
    public var checkQuorum: Bool
    /// Most entries per AppendEntries (small values exercise batching edges).
    public var entriesPerMessageMax: Int
    /// Compact once this many entries are applied past the snapshot; nil: never.
    /// A snapshot is taken after this many applied entries.
    public var snapshotEntries: UInt64
    /// How clients' writes are acknowledged (`COHORT ACK`).
    public var ackMode: AckMode
    /// Percent of reads that are session reads (on any node; read-your-writes, monotonic).
    public var sessionReadPercent: Int
    /// Percent of reads that are bounded-staleness reads, and their bound.
    public var staleReadPercent: Int
    public var staleBoundMillis: UInt64
    /// Chance that a fault point in product code fires (BUGGIFY).
    public var buggifyProbability: Double
    /// The group's write and read timeouts.
    public var writeTimeoutMillis: UInt64
    public var readTimeoutMillis: UInt64
    /// Membership changes (add learner, promote, add voter, remove voter) happen.
    public var membershipChanges: Bool
    /// A client gives up on a request after this many nominal ticks (outcome `info`).
    public var clientTimeoutTicks: Int
    /// Longest pause of a client between requests, in microseconds.
    public var clientThinkMicrosMax: UInt64
    /// Clients of the workload's keyspace (0: the run creates none). They are extra clients,
    /// each bound to the keyspace for its life (a session token names one keyspace's log).
    public var keyspaceClientCount: Int
    /// The keyspace's voters, and its witness (nil: none), among the founders. Founders it
    /// does not name hold no copy: their clients' commands are proxied (and a witness's).
    public var keyspaceVoters: [Int]
    public var keyspaceWitness: Int?
    /// Whether the operator moves the keyspace's members online (REMOVE, then ADD back), so
    /// that nodes close a keyspace's group and open it again.
    public var keyspaceMembershipChanges: Bool

    /// Draws the parameters of one run. The draws always happen in the same order and
    /// number, whatever the options say, so overriding one field (for example the node
    /// count, in a replay command) leaves every other draw unchanged.
    public init(options: SimulationOptions, random: inout SimRandom) {
        let drawnNodeCount = random.integer(in: 3...5)
        nodeCount = options.nodeCount ?? drawnNodeCount
        clientCount = random.integer(in: 1...3)
        keyCount = random.integer(in: 1...3)
        var enabled: [FaultKind] = []
        for kind in FaultKind.allCases {
            let keeps = random.chance(0.7)
            if keeps && options.faults.contains(kind) { enabled.append(kind) }
        }
        if enabled.isEmpty, let first = options.faults.kinds.first { enabled = [first] }
        faults = FaultSet(enabled)

        let delayMin = random.integer(in: UInt64(200)...UInt64(2_000))
        let delaySpread = random.integer(in: UInt64(500)...UInt64(20_000))
        let drop = random.unit() * 0.15
        let duplicate = random.unit() * 0.1
        let longDelay = random.unit() * 0.05
        let longDelayMax = random.integer(in: UInt64(50_000)...UInt64(1_000_000))
        network = NetworkConditions(
            delayMicrosMin: delayMin, delayMicrosMax: delayMin + delaySpread,
            dropProbability: faults.contains(.drop) ? drop : 0,
            duplicateProbability: faults.contains(.duplicate) ? duplicate : 0,
            reorders: faults.contains(.reorder),
            longDelayProbability: faults.contains(.reorder) ? longDelay : 0,
            longDelayMicrosMax: faults.contains(.reorder) || faults.contains(.duplicate)
                ? longDelayMax : 0)

        nemesisIntervalTicksMean = random.integer(in: 20...150)
        partitionTicksMax = random.integer(in: 20...300)
        downTicksMax = random.integer(in: 2...200)
        correlatedCrashProbability = random.unit() * 0.4
        let crashPoints = random.chance(0.5) ? random.unit() * 0.2 : 0
        crashPointProbability = faults.contains(.crash) ? crashPoints : 0
        leaderCrashProbability = random.unit()
        let electionCrashPoints = random.chance(0.5) ? random.unit() * 0.6 : 0
        electionCrashPointProbability = faults.contains(.crash) ? electionCrashPoints : 0
        keepsUnsyncedPrefixProbability = random.unit()
        fsyncMicrosMin = random.integer(in: UInt64(50)...UInt64(2_000))
        fsyncMicrosMax = fsyncMicrosMin + random.integer(in: UInt64(0)...UInt64(15_000))

        let drift = random.integer(in: 0...20_000)
        let stall = random.integer(in: 1...30)
        clockDriftPartsPerMillionMax = faults.contains(.clock) ? drift : 100

        electionTimeoutTicksMin = random.integer(in: 8...20)
        electionTimeoutTicksMax = electionTimeoutTicksMin + random.integer(in: 1...15)
        heartbeatIntervalTicks = random.integer(in: 1...max(1, electionTimeoutTicksMin / 4))
        preVote = random.chance(0.75)
        checkQuorum = random.chance(0.75)
        let modes: [AckMode] = [.majority, .majority, .all, .leader]
        ackMode = random.element(of: modes)
        entriesPerMessageMax = random.chance(0.3) ? random.integer(in: 1...4) : 64
        sessionReadPercent = random.chance(0.5) ? random.integer(in: 10...60) : 0
        staleReadPercent = random.chance(0.4) ? random.integer(in: 5...30) : 0
        staleBoundMillis = UInt64(random.integer(in: 50...500))
        clockStallTicksMax = faults.contains(.clock) ? stall : 0
        buggifyProbability = random.chance(0.5) ? random.unit() * 0.05 : 0
        let snapshots = random.chance(0.5)
        let threshold = random.integer(in: 8...200)
        snapshotEntries = UInt64(snapshots ? threshold : 1_000_000)
        let changes = random.chance(0.4)
        let spares = random.integer(in: 1...2)
        membershipChanges = changes
        spareNodeCount = changes ? spares : 0
        clientTimeoutTicks = random.integer(in: 20...120)
        writeTimeoutMillis = UInt64(random.integer(in: 100...1_000))
        readTimeoutMillis = UInt64(random.integer(in: 100...1_000))
        clientThinkMicrosMax = random.integer(in: UInt64(0)...UInt64(40_000))
        // Drawn last, so the draws above stay what they were for every seed.
        let keyspace = random.chance(0.5)
        keyspaceClientCount = keyspace ? random.integer(in: 1...2) : 0
        let founders = random.shuffled(Array(0..<nodeCount))
        if random.chance(0.3) {
            keyspaceVoters = Array(founders.prefix(2)).sorted()
            keyspaceWitness = founders[2]
        } else {
            keyspaceVoters = Array(founders.prefix(3)).sorted()
            keyspaceWitness = nil
        }
        keyspaceMembershipChanges = keyspace && random.chance(0.5)
    }

    /// One line listing every parameter, for the run's summary.
    public var description: String {
        var parts: [String] = []
        parts.append("nodes=\(nodeCount)+\(spareNodeCount)spare")
        parts.append("clients=\(clientCount) keys=\(keyCount)")
        parts.append("faults=\(faults)")
        parts.append(
            "delay=\(network.delayMicrosMin)-\(network.delayMicrosMax)us"
                + " drop=\(percent(network.dropProbability))"
                + " dup=\(percent(network.duplicateProbability)) reorder=\(network.reorders)"
                + " longDelay=\(percent(network.longDelayProbability))"
                + "<=\(network.longDelayMicrosMax / 1_000)ms")
        parts.append("nemesisEvery~\(nemesisIntervalTicksMean)t")
        parts.append("partitionMax=\(partitionTicksMax)t downMax=\(downTicksMax)t")
        parts.append(
            "powerLoss=\(percent(correlatedCrashProbability))"
                + " crashPoints=\(percent(crashPointProbability))"
                + "/\(percent(electionCrashPointProbability))"
                + " leaderCrash=\(percent(leaderCrashProbability))"
                + " keepUnsynced=\(percent(keepsUnsyncedPrefixProbability))")
        parts.append("fsync=\(fsyncMicrosMin)-\(fsyncMicrosMax)us")
        parts.append("drift=\(clockDriftPartsPerMillionMax)ppm stallMax=\(clockStallTicksMax)t")
        parts.append(
            "election=\(electionTimeoutTicksMin)-\(electionTimeoutTicksMax)t"
                + " heartbeat=\(heartbeatIntervalTicks)t preVote=\(preVote)"
                + " checkQuorum=\(checkQuorum)")
        parts.append("ack=\(ackMode.rawValue) batch=\(entriesPerMessageMax)")
        parts.append(
            "sessionReads=\(sessionReadPercent)% staleReads=\(staleReadPercent)%"
                + "<=\(staleBoundMillis)ms buggify=\(percent(buggifyProbability))")
        parts.append("snapshotEvery=\(snapshotEntries)")
        parts.append("membership=\(membershipChanges)")
        parts.append("timeouts=\(writeTimeoutMillis)/\(readTimeoutMillis)ms")
        parts.append("clientTimeout=\(clientTimeoutTicks)t think<=\(clientThinkMicrosMax)us")
        if keyspaceClientCount > 0 {
            parts.append(
                "keyspace: clients=\(keyspaceClientCount)"
                    + " voters=\(keyspaceVoters.map { "n\($0 + 1)" }.joined(separator: ","))"
                    + (keyspaceWitness.map { " witness=n\($0 + 1)" } ?? "")
                    + " moves=\(keyspaceMembershipChanges)")
        }
        return parts.joined(separator: " ")
    }

    private func percent(_ probability: Double) -> String {
        "\(Int(probability * 100 + 0.5))%"
    }
}
