import CohortCore
import CohortRaft

/// One node's member of a single-leader (Raft) replication group, as a state machine without
/// I/O: every decision the node takes for the group, and none of the doing (DESIGN.md §2).
///
/// It wraps the ``RaftNode`` and adds what makes a database of it:
/// - writes: the leader evaluates a command (``WriteEvaluator``) over the applied state plus
///   the writes it proposed but has not applied (the overlay), proposes the key-level effects
///   (``LogicalEntry``) and answers when the session's ``AckMode`` is met; a follower forwards
///   the command to the leader (``ForwardMessage``); without a leader it parks it;
/// - reads: gates for linearizable (ReadIndex), session (the token applied), bounded-staleness
///   and any reads; WAIT;
/// - the disk pipeline: what to persist and when to sync, a steady leader sending and applying
///   before its own fsync and syncing in the background (Raft thesis §10.2.1);
/// - applying committed entries, snapshots and log compaction, the default group's
///   membership entries and keyspace catalog, and a keyspace group's membership moves.
///
/// Inputs are its mutating methods, named for events (``tick(now:)``, ``receive(_:now:)``,
/// ``submitWrite(_:arguments:token:ackMode:now:)``, ``diskCompleted(_:failure:)``, ...).
/// Outputs are ``LeaderGroupAction``s that a host takes with ``drain()``; replies name the
/// host's ``RequestID``s, so no closure crosses the boundary. Time comes in as ``GroupTime``:
/// deadlines use its monotonic reading only.
///
/// The NIO host (`ReplicationDriver`) runs it on sockets and files; the simulator runs the
/// same code. Invariants: `appliedIndex <= raft.commitIndex` except right after a restart
/// whose engine was ahead of the persisted commit index; one ready outstanding at a time.
public struct LeaderGroup: Sendable {
    /// Its configuration.
    public let configuration: LeaderGroupConfiguration
    /// This node.
    public let nodeID: NodeID
    /// The Raft core.
    public internal(set) var raft: RaftNode
    let evaluator: any WriteEvaluator

    /// Member names by id.
    var names: [NodeID: String]
    /// Default group: addresses of members added online, by name.
    public internal(set) var knownPeers: [String: PeerEndpoint]
    /// Default group: the keyspaces defined so far.
    public internal(set) var catalog: KeyspaceCatalog
    /// Keyspace groups: the keyspace's latest definition, which the leader moves the group's
    /// membership toward.
    var desiredKeyspace: KeyspaceDefinition?
    var ticksWithoutLeader = 0
    var hasLeftKeyspace = false
    /// Set once the group stopped; it then takes no input.
    public internal(set) var isStopped = false

    // Writes in flight on the leader.
    var overlay: [[UInt8]: KeyWrite] = [:]
    var overlayIndex: [[UInt8]: LogIndex] = [:]
    var overlayFlushIndex: LogIndex?
    var pendingWrites: [LogIndex: PendingWrite] = [:]
    /// Leader: indexes of `leader`-mode writes of this term, in log order (entries whose write
    /// is gone are skipped). Emptied on every role change.
    var leaderModeIndexes: [LogIndex] = []
    /// Leader: indexes of committed `all`-mode writes waiting for every voter, in log order.
    var committedAllModeIndexes: [LogIndex] = []

    // Requests waiting.
    var appliedWaiters: [AppliedWaiter] = []
    var readIndexRequests: [UInt64: ReadIndexRequest] = [:]
    var forwardedWrites: [UInt64: ForwardedWrite] = [:]
    var replicaWaits: [ReplicaWait] = []
    var parked: [ParkedRequest] = []
    /// Ids for forwarded writes and ReadIndex requests. Each incarnation starts at a random
    /// point, so an answer that was delayed across a restart cannot match a new request.
    var nextInternalID: UInt64
    /// Leader: forwarded writes already taken, by sender and id, oldest first (bounded): the
    /// network may deliver a frame twice, and a write must not be applied twice.
    var forwardsSeen: DeliveryFilter

    /// What the state machine reflects: the Raft applied index, or further when the engine was
    /// ahead of the persisted commit index at restart.
    public internal(set) var appliedIndex: LogIndex
    /// Entries at or below this were applied before a restart (the engine says so).
    let engineAppliedAtStart: LogIndex
    /// The state machine's own sequence: the last index whose writes it holds.
    var engineSequence: LogIndex
    /// The hard state as of the last fsync of the Raft log (what a crash now would keep).
    public internal(set) var syncedHardState: RaftHardState
    /// The leader as of the last soft-state change.
    var knownLeader: NodeID?

    // Time, on the monotonic clock.
    /// The latest time an input brought.
    var now: GroupTime
    var lastElectionMillis: UInt64?
    var lastLeaderChange = "none"
    /// Follower: messages from the current leader not yet covered by what this node applied:
    /// when each arrived and the commit index it carried. Bounded.
    var leaderContacts: [(millis: UInt64, commit: LogIndex)] = []
    /// Follower: the latest time at which this node had applied everything the leader had
    /// told it was committed (the time that leader message arrived).
    var freshAsOfMillis: UInt64?
    /// Leader: when each follower last answered in this term.
    var followerHeardMillis: [NodeID: UInt64] = [:]
    /// Leader: when each follower's match index last reached the commit index.
    var followerCaughtUpMillis: [NodeID: UInt64] = [:]

    // The disk pipeline.
    var pendingReady: PendingReady?
    var nextDiskOperation: UInt64 = 1
    /// The last entry a leader wrote whose fsync has not begun yet.
    var leaderUnsyncedThrough: (index: LogIndex, term: Term)?
    /// A background fsync running: its id and the entry it makes durable.
    var backgroundSync: (id: DiskOperationID, through: LogIndex, term: Term)?
    /// A snapshot is being encoded or written.
    var isSnapshotInProgress = false
    /// The catalog at the start of the received snapshot the last persisted ready carried
    /// (read by the host from the file; empty for none).
    var receivedSnapshotCatalog = KeyspaceCatalog()
    /// Bytes of the entries applied since the last snapshot was asked for or installed, and
    /// the size of the last snapshot (see ``LeaderGroupConfiguration/snapshotLogBytesMin``).
    var appliedBytesSinceSnapshot: UInt64 = 0
    var lastSnapshotBytes: UInt64 = 0

    var actions: [LeaderGroupAction] = []
    /// A drained batch the host has not finished running yet.
    var batchOutstanding = false

    /// Creates the group over what the host recovered.
    ///
    /// - Parameters:
    ///   - durable: the Raft log's durable state.
    ///   - engineApplied: the index the state machine holds (its sequence), after the host
    ///     restored it from the log's snapshot when it was behind.
    ///   - catalog: default group: the saved keyspace catalog.
    ///   - knownPeers: default group: the saved addresses of members added online.
    ///   - randomSeed: seeds the Raft core's election timeouts.
    public init(
        configuration: LeaderGroupConfiguration, evaluator: any WriteEvaluator,
        durable: RaftDurableState, engineApplied: LogIndex, catalog: KeyspaceCatalog,
        knownPeers: [String: PeerEndpoint], randomSeed: UInt64, now: GroupTime
    ) {
        self.configuration = configuration
        self.evaluator = evaluator
        self.now = now
        let me = Self.nodeID(named: configuration.nodeName)
        self.nodeID = me
        var names: [NodeID: String] = [:]
        for name in configuration.founders { names[Self.nodeID(named: name)] = name }
        for member in configuration.definition?.members ?? [] {
            names[Self.nodeID(named: member)] = member
        }
        for name in knownPeers.keys { names[Self.nodeID(named: name)] = name }
        names[me] = configuration.nodeName
        self.names = names
        self.nextInternalID = (randomSeed & 0xFFFF_FFFF) << 24 | 1
        self.forwardsSeen = DeliveryFilter(countMax: configuration.limits.forwardsRememberedMax)
        self.knownPeers = knownPeers
        self.catalog = catalog
        self.desiredKeyspace = configuration.definition
        self.engineAppliedAtStart = engineApplied
        self.engineSequence = engineApplied
        self.syncedHardState = durable.hardState
        let snapshotIndex = durable.snapshot?.metadata.index ?? .zero
        self.lastSnapshotBytes = durable.snapshot?.size ?? 0
        let applied = max(snapshotIndex, min(engineApplied, durable.hardState.commitIndex))
        let membership: RaftMembership
        if let definition = configuration.definition, definition.version > 0 {
            // The keyspace changed since it was created: this node may be joining it, so it
            // waits for the group's leader to bring it in (a log that already holds a
            // membership ignores this).
            membership = .empty
        } else if let definition = configuration.definition {
            membership = RaftMembership(
                voters: definition.voters.map(Self.nodeID(named:)),
                witnesses: definition.witnesses.map(Self.nodeID(named:)),
                learners: definition.learners.map(Self.nodeID(named:)))
        } else if configuration.joins {
            membership = .empty
        } else {
            membership = RaftMembership(voters: configuration.founders.map(Self.nodeID(named:)))
        }
        self.raft = RaftNode(
            id: me, config: configuration.raft, membership: membership, durableState: durable,
            appliedIndex: applied, randomSeed: randomSeed)
        self.appliedIndex = max(applied, engineApplied)
        log(
            .info, "raft log recovered",
            [
                "term": "\(raft.term)", "lastIndex": "\(raft.lastIndex)",
                "commit": "\(raft.commitIndex)", "snapshot": "\(snapshotIndex)",
                "engineApplied": "\(engineApplied)",
            ])
    }

    /// A stable numeric id for a node name (FNV-1a, never zero).
    public static func nodeID(named name: String) -> NodeID {
        let hash = FNV1a.hash(name.utf8)
        return NodeID(hash == 0 ? 1 : hash)
    }

    /// The group's id.
    public var groupID: GroupID { configuration.groupID }

    /// The name of member `node` (its id when unknown).
    public func name(of node: NodeID) -> String { names[node] ?? "\(node)" }

    /// Whether this node is a witness of the group (it keeps no data).
    public var isWitness: Bool { raft.membership.witnesses.contains(nodeID) }

    /// Takes the actions accumulated so far, after running the Raft core's readies as far as
    /// the disk allows. The host runs all of them before its next input, then calls
    /// ``finishedActions()``.
    public mutating func drain() -> [LeaderGroupAction] {
        precondition(!batchOutstanding, "drain() while the previous batch is still running")
        if !isStopped { processReadies() }
        guard !actions.isEmpty else { return [] }
        batchOutstanding = true
        defer { actions.removeAll(keepingCapacity: true) }
        return actions
    }

    /// The host ran every action of the last batch.
    public mutating func finishedActions() {
        batchOutstanding = false
    }

    /// Stops the group: a state machine that cannot persist or apply the log must not serve or
    /// vote (fsyncgate). Every request it holds is answered with an error; the host then fails
    /// its own table too (``LeaderGroupAction/stopped(reason:reply:)``). Idempotent.
    public mutating func stop(because reason: String) {
        guard !isStopped else { return }
        isStopped = true
        let reply = RESPValue.error("ERR the node stopped: \(reason)")
        failEverything(reply)
        log(.critical, "stopping: \(reason)", [:])
        actions.append(.stopped(reason: reason, reply: reply))
    }

    /// Shuts the group down cleanly (the node is stopping): like ``stop(because:)`` with a
    /// retryable error.
    public mutating func shutDown() {
        guard !isStopped else { return }
        isStopped = true
        let reply = Self.shuttingDown
        failEverything(reply)
        actions.append(.stopped(reason: "shutdown", reply: reply))
    }

    mutating func log(_ level: GroupLogLevel, _ message: String, _ metadata: [String: String]) {
        var metadata = metadata
        metadata["keyspace"] = configuration.keyspace
        actions.append(.log(level, message, metadata))
    }

    mutating func nextID() -> UInt64 {
        defer { nextInternalID += 1 }
        return nextInternalID
    }

    mutating func advanceTime(_ time: GroupTime) {
        // The monotonic reading never goes back; a host that hands an older one (two threads'
        // readings racing) is clamped, not trusted.
        now = GroupTime(
            monotonicMillis: max(now.monotonicMillis, time.monotonicMillis),
            wallMillis: time.wallMillis)
    }

    static let shuttingDown = RESPValue.error("TRYAGAIN the node is shutting down")
    static let notReplicated = RESPValue.error(
        "NOTREPLICATED the write is committed on a majority and applied, but not every voter"
            + " acknowledged it within the write timeout")
    /// The answer to a write whose fate is unknown (also the keyspace proxy's).
    public static let uncertain = RESPValue.error(
        "UNCERTAIN the write's outcome is unknown (leader change or timeout); it may or may not"
            + " have been applied")
    static let leadershipMoved = RESPValue.error(
        "TRYAGAIN leadership moved; the write was not applied")

    /// The refusal of a request whose queue is full: retryable, naming the queue and its bound.
    static func queueFull(_ count: Int, _ what: String, limit: Int) -> RESPValue {
        .error("TRYAGAIN \(count) \(what) (limit \(limit))")
    }
}
