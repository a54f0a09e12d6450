/// A leaderless keyspace's settings on one node: the quorums, timeouts and repair switches.
public struct LeaderlessConfiguration: Hashable, Sendable {
    /// Replicas per key (N).
    public var replicas: Int
    /// Replicas that must hold a write durably before it is acknowledged (W).
    public var writeQuorum: Int
    /// Replicas whose states a read merges before it answers (R).
    public var readQuorum: Int
    /// How long a coordinator waits for its quorum before answering with an error.
    public var requestTimeoutMillis: UInt64
    /// Whether a read writes the merged state back to the replicas that answered older ones.
    public var readRepair: Bool
    /// How often a node starts an anti-entropy exchange of one of its partitions (0: never).
    public var antiEntropyIntervalMillis: UInt64
    /// Sloppy quorum: a write whose home replicas do not all answer within
    /// ``hintAfterMillis`` also goes to the next nodes on the ring, which keep it as a hint
    /// and hand it to the home replica once it answers again (Riak's default; off is
    /// Cassandra's: only home replicas count towards W).
    public var sloppy: Bool
    /// How long a coordinator waits for a home replica before it sends the write to a
    /// fallback node (sloppy quorums only).
    public var hintAfterMillis: UInt64
    /// Hints a node keeps for one home replica; past it, it refuses further hints for that
    /// replica (the coordinator tries the next fallback).
    public var hintsPerTargetMax: Int
    /// How often a node offers its hints to their home replicas.
    public var handoffIntervalMillis: UInt64
    /// Concurrent values a key may hold before client writes that would add one more are
    /// refused (a write with a context that supersedes them is taken; repair, anti-entropy
    /// and handoff never are). Past half of it, writes are taken and counted as warnings.
    public var siblingsMax: Int
    /// Deliberate bugs for the simulator's broken variants; empty in production.
    public var faults: LeaderlessFaults

    public init(
        replicas: Int = 3, writeQuorum: Int = 2, readQuorum: Int = 2,
        requestTimeoutMillis: UInt64 = 1_000, readRepair: Bool = true,
        antiEntropyIntervalMillis: UInt64 = 100, sloppy: Bool = true,
        hintAfterMillis: UInt64 = 100, hintsPerTargetMax: Int = 100_000,
        handoffIntervalMillis: UInt64 = 100, siblingsMax: Int = 64,
        faults: LeaderlessFaults = []
    ) {
        self.replicas = replicas
        self.writeQuorum = writeQuorum
        self.readQuorum = readQuorum
        self.requestTimeoutMillis = requestTimeoutMillis
        self.readRepair = readRepair
        self.antiEntropyIntervalMillis = antiEntropyIntervalMillis
        self.sloppy = sloppy
        self.hintAfterMillis = hintAfterMillis
        self.hintsPerTargetMax = hintsPerTargetMax
        self.handoffIntervalMillis = handoffIntervalMillis
        self.siblingsMax = siblingsMax
        self.faults = faults
    }

    /// Why these settings cannot run, or nil when they can.
    public var problem: String? {
        if replicas < 1 { return "N must be at least 1" }
        if writeQuorum < 1 || writeQuorum > replicas { return "W must be between 1 and N" }
        if readQuorum < 1 || readQuorum > replicas { return "R must be between 1 and N" }
        if requestTimeoutMillis == 0 { return "the request timeout must be positive" }
        if hintsPerTargetMax < 1 { return "the hint limit must be at least 1" }
        if siblingsMax < 1 { return "the sibling limit must be at least 1" }
        return nil
    }

    /// Whether every read quorum overlaps every write quorum (W + R > N, strict quorums):
    /// then a read sees every write acknowledged before it started.
    public var quorumsOverlap: Bool { !sloppy && writeQuorum + readQuorum > replicas }
}

/// Deliberate bugs in the leaderless group, switched on only by the simulator's broken
/// variants (DESIGN.md §6: the simulator proves it can fail).
public struct LeaderlessFaults: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Replicas keep only the newest sibling by timestamp, silently (Riak's LWW scar).
    public static let lwwWithoutSiblings = LeaderlessFaults(rawValue: 1 << 0)
    /// Coordinators answer one reply short of W and of R.
    public static let quorumOneShort = LeaderlessFaults(rawValue: 1 << 1)
    /// Anti-entropy never exchanges partition 0.
    public static let antiEntropySkipsPartition = LeaderlessFaults(rawValue: 1 << 2)
    /// A write ignores its context: it supersedes nothing, so causally ordered writes linger
    /// as siblings.
    public static let contextIgnored = LeaderlessFaults(rawValue: 1 << 3)
    /// A fallback node acknowledges a hint without keeping it.
    public static let hintDropped = LeaderlessFaults(rawValue: 1 << 4)
    /// A replica collects a tombstone once it holds it itself, without asking the others,
    /// and forgets the key's clock.
    public static let tombstoneCollectedEarly = LeaderlessFaults(rawValue: 1 << 5)
}
