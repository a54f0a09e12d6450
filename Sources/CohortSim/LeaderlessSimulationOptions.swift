import CohortReplication

/// What a leaderless simulation run does (``runLeaderlessSimulation(seed:options:)``).
public struct LeaderlessSimulationOptions: Hashable, Sendable {
    /// Nodes on the ring.
    public var nodes = 5
    /// N, W and R of the keyspace.
    public var replicas = 3
    public var writeQuorum = 2
    public var readQuorum = 2
    /// Simulated clients, each with one request at a time.
    public var clients = 4
    /// Distinct keys the clients share (few, so that writes collide).
    public var keys = 4
    /// Length of the phase with faults and client load.
    public var faultMillis: UInt64 = 6_000
    /// How long after the heal every replica must agree (anti-entropy alone).
    public var convergenceMillisMax: UInt64 = 20_000
    /// Crashes, partitions and message loss in the fault phase.
    public var faults = true
    /// Sloppy quorums with hinted handoff; nil lets the seed choose.
    public var sloppy: Bool?
    /// A deliberately broken group the checkers must catch.
    public var broken: LeaderlessBrokenVariant?

    public init() {}
}

/// A deliberately broken leaderless group (DESIGN.md §6), selected with
/// `cohort sim --strategy leaderless --broken <name>`.
public enum LeaderlessBrokenVariant: String, CaseIterable, Hashable, Sendable {
    /// Replicas keep only the newest sibling: concurrent acknowledged writes vanish.
    case lwwWithoutSiblings
    /// Coordinators answer one short of W and R: a read can miss a completed write.
    case quorumOneShort
    /// Anti-entropy never exchanges partition 0: its replicas never converge.
    case merkleSkipsPartition
    /// Writes ignore their context: causally ordered writes linger as siblings.
    case contextIgnored
    /// A fallback acknowledges a hint it does not keep: a write is acknowledged with fewer
    /// than W durable copies.
    case hintDropped
    /// A replica collects a tombstone without asking the others, and forgets the key's
    /// clock: a replica that missed the delete brings the deleted value back.
    case tombstoneCollectedEarly

    /// The group faults this variant switches on.
    public var faults: LeaderlessFaults {
        switch self {
        case .lwwWithoutSiblings: return .lwwWithoutSiblings
        case .quorumOneShort: return .quorumOneShort
        case .merkleSkipsPartition: return .antiEntropySkipsPartition
        case .contextIgnored: return .contextIgnored
        case .hintDropped: return .hintDropped
        case .tombstoneCollectedEarly: return .tombstoneCollectedEarly
        }
    }

    /// Whether the variant needs sloppy quorums to show.
    public var needsSloppyQuorums: Bool { self == .hintDropped }
}

/// What a leaderless simulation run found.
public struct LeaderlessSimulationResult: Sendable {
    public var seed: UInt64
    /// What the checkers found wrong (empty: the run passed).
    public var violations: [String]
    public var writesAcknowledged = 0
    public var writesFailed = 0
    public var readsAnswered = 0
    public var readsFailed = 0
    /// Reads that returned more than one sibling.
    public var readsWithSiblings = 0
    public var crashes = 0
    public var partitions = 0
    public var readRepairs = 0
    public var antiEntropyKeysRepaired = 0
    /// Whether the run used sloppy quorums, and the write copies sent to fallback nodes.
    public var sloppy = false
    public var hintedWrites = 0
    public var hintsHandedOff = 0
    /// Tombstones collected (summed over replicas).
    public var tombstonesCollected = 0
    /// Milliseconds from the heal until every replica agreed (nil: never, within the bound).
    public var convergenceMillis: UInt64?
    /// A hash of the run's events: equal seeds give equal hashes.
    public var traceHash: UInt64 = 0

    public var passed: Bool { violations.isEmpty }

    public var summary: String {
        let verdict = passed ? "ok" : "FAILED (\(violations.count) violations)"
        let converged = convergenceMillis.map { "\($0) ms" } ?? "never"
        return
            "seed \(seed): \(verdict); writes \(writesAcknowledged) acked / \(writesFailed) failed, "
            + "reads \(readsAnswered) / \(readsFailed) failed, \(readsWithSiblings) with siblings, "
            + "\(crashes) crashes, \(partitions) partitions, \(readRepairs) read repairs, "
            + "\(antiEntropyKeysRepaired) keys repaired by anti-entropy, "
            + (sloppy
                ? "sloppy: \(hintedWrites) hinted copies, \(hintsHandedOff) handed off, "
                : "strict, ")
            + "\(tombstonesCollected) tombstones collected, converged in \(converged)"
    }
}
