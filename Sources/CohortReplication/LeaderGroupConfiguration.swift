import CohortCore
import CohortRaft

/// What a ``LeaderGroup`` is told when it is created.
public struct LeaderGroupConfiguration: Sendable {
    /// The group's id on the wire.
    public var groupID: GroupID
    /// The keyspace it replicates.
    public var keyspace: String
    /// This node's name.
    public var nodeName: String
    /// Default group: the founding voters' names (this node included), unless `joins`.
    public var founders: [String]
    /// Default group: this node joins a running cluster (it learns the membership).
    public var joins: Bool
    /// Keyspace groups: the keyspace's definition as this node knows it.
    public var definition: KeyspaceDefinition?
    /// The Raft core's tunables.
    public var raft: RaftConfig
    /// How long a write may wait for its acknowledgement.
    public var writeTimeoutMillis: UInt64
    /// How long a read may wait for its gate.
    public var readTimeoutMillis: UInt64
    /// A snapshot is taken once this many entries were applied since the last one.
    public var snapshotEntries: UInt64
    /// A snapshot is also taken once the entries applied since the last one hold this many
    /// bytes and at least as many as the last snapshot (Redis's AOF rewrite rule: 64 MB
    /// minimum, 100% growth). The Raft log holds them in memory until then: with large values,
    /// a count alone let it grow to hundreds of megabytes; the growth rule keeps snapshot
    /// writes within about twice the log's.
    public var snapshotLogBytesMin: UInt64 = 64 << 20
    /// The acknowledgement mode a session gets when it names none (status only).
    public var defaultAckMode: AckMode
    /// The bounds on every queue the group keeps.
    public var limits: LeaderGroupLimits
    /// Deliberate bugs (simulator broken variants only; empty otherwise).
    public var faults: LeaderGroupFaults = []

    /// A configuration.
    public init(
        groupID: GroupID, keyspace: String, nodeName: String, founders: [String],
        joins: Bool, definition: KeyspaceDefinition?, raft: RaftConfig,
        writeTimeoutMillis: UInt64, readTimeoutMillis: UInt64, snapshotEntries: UInt64,
        defaultAckMode: AckMode, limits: LeaderGroupLimits = LeaderGroupLimits()
    ) {
        self.groupID = groupID
        self.keyspace = keyspace
        self.nodeName = nodeName
        self.founders = founders
        self.joins = joins
        self.definition = definition
        self.raft = raft
        self.writeTimeoutMillis = writeTimeoutMillis
        self.readTimeoutMillis = readTimeoutMillis
        self.snapshotEntries = snapshotEntries
        self.defaultAckMode = defaultAckMode
        self.limits = limits
    }
}

/// The bounds on a ``LeaderGroup``'s queues (DESIGN.md §2: every queue has a named bound and
/// answers a clear error past it). Requests past a bound are refused at once with a retryable
/// `TRYAGAIN` that names the queue.
public struct LeaderGroupLimits: Hashable, Sendable {
    /// Proposed writes waiting for their acknowledgement (Raft's own bound on uncommitted
    /// entries also applies).
    public var pendingWritesMax = 65_536
    /// Writes this node forwarded to the leader and waits to hear about.
    public var forwardedWritesMax = 65_536
    /// Reads waiting for a ReadIndex answer or for this node to apply their index.
    public var waitingReadsMax = 65_536
    /// WAIT commands waiting for replicas.
    public var replicaWaitsMax = 10_000
    /// Requests parked until a leader is known.
    public var parkedRequestsMax = 10_000
    /// How long a request stays parked at most before it fails (no leader).
    public var parkedMillisMax: UInt64 = 5_000
    /// Forwarded writes a leader remembers having taken, to drop duplicate deliveries.
    public var forwardsRememberedMax = 65_536
    /// Leader contacts a follower remembers to measure its staleness.
    public var leaderContactsMax = 64
    /// Keyspace groups: ticks without a leader after which a node the keyspace no longer
    /// names leaves the group (two maximum election timeouts of the cluster's config).
    public var leftAfterTicks = 40

    /// The defaults.
    public init() {}
}
