import CohortCore
import CohortNode
import CohortRaft
import CohortReplication
import CohortStorage
import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Runs one node of a single-leader (Raft) replication group, one per keyspace, in the real world: it owns the sans-I/O
/// ``RaftNode`` and feeds it ticks, peer messages and client requests on one event loop (the
/// "raft loop"), persists each ready to the ``RaftLogStore`` (a steady leader sends its
/// appends while it persists; everything else is sent after), and applies committed entries
/// to the ``StorageEngine``.
///
/// Writes: the leader evaluates a write command against the applied state plus the writes it
/// has proposed but not yet applied (the overlay), replicates the resulting key-level effects
/// (``LogicalEntry``), and answers when the entry satisfies the session's ``AckMode``.
/// Followers forward writes to the leader over the peer transport.
///
/// Reads: a connection asks for a gate (``submitRead(consistency:token:completion:)``); once it
/// opens, the read runs locally against what this node has applied.
///
/// Applied state: the engine's sequence is the last applied entry that wrote something, so a
/// restart resumes applying after it; entries up to it are skipped.
///
/// Groups: the default keyspace's group (id 0) also carries the cluster's membership
/// (``MemberEntry``) and its keyspace catalog (``KeyspaceDefinition``); a keyspace's group
/// carries only its own data. Every group has its own log, engine and raft loop; they share
/// the node's ``PeerTransport`` (see ``ClusterNode``).
///
/// Everything named "loop-confined" is touched only on `loop`.
public final class ReplicationDriver: @unchecked Sendable {
    /// A proposed write waiting for its acknowledgement condition.
    struct PendingWrite {
        var term: Term
        var ackMode: AckMode
        var reply: RESPValue
        var deadlineMillis: UInt64
        var completion: @Sendable (RESPValue, UInt64) -> Void
        /// Committed with our term; waiting for every voter (`all` mode).
        var committed = false
    }

    /// A read waiting until this node has applied `index`.
    struct AppliedWaiter {
        var index: LogIndex
        var deadlineMillis: UInt64
        var completion: @Sendable (ReadGate) -> Void
    }

    /// A ReadIndex request in flight.
    struct ReadIndexRequest {
        var token: LogIndex
        var deadlineMillis: UInt64
        var completion: @Sendable (ReadGate) -> Void
    }

    /// A write forwarded to the leader, waiting for its answer.
    struct ForwardedRequest {
        var deadlineMillis: UInt64
        var completion: @Sendable (RESPValue, UInt64) -> Void
    }

    /// A WAIT command on the leader.
    struct ReplicaWait {
        var index: LogIndex
        var replicas: Int
        var deadlineMillis: UInt64
        var completion: @Sendable (RESPValue, UInt64) -> Void
    }

    /// A request parked until a leader is known.
    struct LeaderlessRequest {
        var deadlineMillis: UInt64
        var retry: () -> Void
        var fail: () -> Void
    }

    let configuration: ServerConfiguration
    let executor: CommandExecutor
    let engine: StorageEngine
    let store: RaftLogStore
    let logger: Logger
    /// This node.
    public let nodeID: NodeID
    /// The replication group's id on the wire (0: the default keyspace).
    public let groupID: UInt64
    /// The keyspace this group replicates.
    public let keyspace: String
    /// Default group only: called on the raft loop with each keyspace the log defines (again
    /// after a restart for the ones already known). Set before ``start()``.
    var onKeyspaceDefined: (@Sendable (KeyspaceDefinition) -> Void)?
    /// Keyspace groups only: called once, on the raft loop, when this node has left the
    /// group after the keyspace stopped naming it. Set before ``start()``.
    var onLeftKeyspace: (@Sendable () -> Void)?
    /// Member names by id (loop-confined after `start()`).
    var names: [NodeID: String]
    /// Addresses of members added online, by name (loop-confined after `start()`).
    var knownPeers: [String: PeerAddress]
    let raftGroup: MultiThreadedEventLoopGroup
    /// The raft loop.
    let loop: any EventLoop
    private(set) var transport: PeerTransport!

    // Loop-confined state.
    var node: RaftNode
    var pumpScheduled = false
    var overlay: [[UInt8]: KeyWrite] = [:]
    var overlayIndex: [[UInt8]: LogIndex] = [:]
    var overlayFlushIndex: LogIndex?
    var pendingWrites: [LogIndex: PendingWrite] = [:]
    /// Leader: the indexes of `leader`-mode writes proposed in this term, in log order, so a
    /// ready answers them without scanning every pending write (entries whose write is gone
    /// are skipped). Bounded by the uncommitted entries; emptied on every role change.
    var leaderModeIndexes: [LogIndex] = []
    /// Leader: the indexes of committed `all`-mode writes still waiting for every voter, in
    /// log order (same rules as `leaderModeIndexes`).
    var committedAllModeIndexes: [LogIndex] = []
    var appliedWaiters: [AppliedWaiter] = []
    var readIndexRequests: [UInt64: ReadIndexRequest] = [:]
    var forwardedRequests: [UInt64: ForwardedRequest] = [:]
    var replicaWaits: [ReplicaWait] = []
    var leaderless: [LeaderlessRequest] = []
    var nextRequestID: UInt64 = 1
    /// What the state machine reflects: the Raft applied index, or further when the engine was
    /// ahead of the persisted commit index at restart.
    var appliedIndex: LogIndex
    /// Entries at or below this were applied before a restart (the engine says so).
    let engineAppliedAtStart: LogIndex
    var lastElectionMillis: UInt64 = 0
    var lastLeaderChange = "none"
    /// The hard state as of the last fsync of the Raft log.
    var syncedHardState: RaftHardState
    /// The leader as of the last soft-state change.
    var knownLeader: NodeID?
    var lastCaughtUpMillis: UInt64 = 0
    /// Per follower (on the leader): when its match index last reached the commit index.
    var followerCaughtUpMillis: [NodeID: UInt64] = [:]
    var tickTask: RepeatedTask?
    var isStopped = false
    /// A snapshot is being encoded or written off the raft loop (see `maybeCompactLog`).
    var isSnapshotInProgress = false
    /// Runs a leader's Raft log fsyncs off the raft loop (see `startLeaderSync`).
    let syncQueue = DispatchQueue(label: "cohort.raft-sync")
    /// The last entry a leader wrote whose fsync has not begun yet (loop-confined).
    var leaderUnsyncedThrough: (index: LogIndex, term: Term)?
    /// An fsync of the Raft log runs on `syncQueue` (loop-confined).
    var isLeaderSyncRunning = false
    let rollbackLog: RollbackLog
    /// Default group only: the keyspaces created so far (loop-confined; a copy is published
    /// in `catalogBox`).
    var catalog: KeyspaceCatalog
    /// Keyspace groups only: the keyspace's latest definition, which the leader moves the
    /// group's membership toward (loop-confined).
    var desiredKeyspace: KeyspaceDefinition?
    /// Keyspace groups only: ticks in a row without a leader while the keyspace no longer
    /// names this node, and whether it has left (loop-confined).
    var ticksWithoutLeader = 0
    var hasLeftKeyspace = false

    // Shared with other threads.
    let statusBox = NIOLockedValueBox<(fields: [(String, String)], followers: [FollowerStatus])>(
        ([], []))
    let catalogBox = NIOLockedValueBox(KeyspaceCatalog())
    /// Set (under its lock) just before the raft loop shuts down: tasks from other threads
    /// are then refused instead of handed to a dead loop, where they would never run.
    private let loopClosed = NIOLockedValueBox(false)

    /// Opens the Raft log in `<data-dir>/raft`, restores the state machine if the engine is
    /// behind the log's snapshot, and creates the node. `keyspace` is nil for the default
    /// keyspace's group; otherwise `configuration.dataDirectory` is the keyspace's own
    /// directory and the group starts with the members the definition names. Call
    /// ``start()`` next.
    public init(
        configuration: ServerConfiguration, executor: CommandExecutor, logger: Logger,
        keyspace definition: KeyspaceDefinition? = nil
    ) throws {
        self.configuration = configuration
        self.executor = executor
        self.engine = executor.engine
        self.logger = logger
        self.groupID = definition?.groupID ?? 0
        self.keyspace = definition?.name ?? KeyspaceDefinition.defaultName
        var names: [NodeID: String] = [:]
        for peer in configuration.peers { names[Self.nodeID(named: peer.name)] = peer.name }
        for member in definition?.members ?? [] { names[Self.nodeID(named: member)] = member }
        let knownPeers =
            definition == nil ? Self.loadPeers(path: configuration.dataDirectory + "/peers") : [:]
        for name in knownPeers.keys { names[Self.nodeID(named: name)] = name }
        self.knownPeers = knownPeers
        let me = Self.nodeID(named: configuration.nodeName)
        names[me] = configuration.nodeName
        self.names = names
        self.nodeID = me
        self.catalog =
            definition == nil
            ? try Self.loadCatalog(directory: configuration.dataDirectory) : KeyspaceCatalog()
        var storeOptions = RaftLogStoreOptions.cluster(for: configuration)
        storeOptions.segmentPreallocationBytes = Self.raftLogPreallocationBytes
        self.store = try RaftLogStore.open(
            directory: configuration.dataDirectory + "/raft", options: storeOptions)
        self.rollbackLog = try RollbackLog(path: configuration.dataDirectory + "/rollback.log")
        let durable = store.durableState
        // The engine may be behind the log's snapshot (its writes since were never synced):
        // restore the snapshot's state first.
        var engineApplied = LogIndex(engine.sequences.committed)
        if let snapshot = durable.snapshot, engineApplied < snapshot.metadata.index {
            guard let state = KeyspaceCatalog.unwrapSnapshot(snapshot.data),
                let puts = StateSnapshotCodec.decode(state.state)
            else {
                throw StorageError.failed("the Raft snapshot in \(store.directory) is damaged")
            }
            try engine.restore(
                puts.map(Self.keyWrite), sequence: snapshot.metadata.index.rawValue,
                nowMillis: WallClock.nowMillis())
            engineApplied = snapshot.metadata.index
        }
        self.engineAppliedAtStart = engineApplied
        self.syncedHardState = durable.hardState
        let snapshotIndex = durable.snapshot?.metadata.index ?? .zero
        let applied = max(snapshotIndex, min(engineApplied, durable.hardState.commitIndex))
        let raftConfig = RaftConfig.cluster(for: configuration)
        let membership: RaftMembership
        if let definition, definition.version > 0 {
            // The keyspace changed since it was created: this node may be joining it, so it
            // waits for the group's leader to bring it in (a log that already holds a
            // membership ignores this).
            membership = .empty
        } else if let definition {
            membership = RaftMembership(
                voters: definition.voters.map(Self.nodeID(named:)),
                witnesses: definition.witnesses.map(Self.nodeID(named:)),
                learners: definition.learners.map(Self.nodeID(named:)))
        } else if configuration.joins {
            membership = .empty
        } else {
            membership = RaftMembership(
                voters: configuration.peers.map { Self.nodeID(named: $0.name) })
        }
        self.node = RaftNode(
            id: me, config: raftConfig, membership: membership, durableState: durable,
            appliedIndex: applied, randomSeed: me.rawValue ^ WallClock.monotonicNanos())
        self.appliedIndex = max(applied, engineApplied)
        self.desiredKeyspace = definition
        self.raftGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.loop = raftGroup.next()
        catalogBox.withLockedValue { $0 = catalog }
        logger.info(
            "raft log recovered",
            metadata: [
                "node": "\(configuration.nodeName)", "keyspace": "\(keyspace)",
                "term": "\(node.term)",
                "lastIndex": "\(node.lastIndex)", "commit": "\(node.commitIndex)",
                "snapshot": "\(snapshotIndex)", "engineApplied": "\(engineApplied)",
            ])
    }

    /// Zeroes preallocated ahead of the Raft log's records (see
    /// ``RaftLogStoreOptions/segmentPreallocationBytes``): every fsync of a write then
    /// flushes only data. 1 MiB is about 6,000 small writes, so the extension (and the larger
    /// fsync that follows it) is rare.
    static let raftLogPreallocationBytes = 1 << 20

    /// A stable numeric id for a node name (FNV-1a, never zero).
    public static func nodeID(named name: String) -> NodeID {
        let hash = FNV1a.hash(name.utf8)
        return NodeID(hash == 0 ? 1 : hash)
    }

    /// The peers to dial: members added online, then the command line's (which wins).
    var peerAddresses: [NodeID: PeerAddress] {
        var peers: [NodeID: PeerAddress] = [:]
        for (name, address) in knownPeers where name != configuration.nodeName {
            peers[Self.nodeID(named: name)] = address
        }
        for peer in configuration.peers where peer.name != configuration.nodeName {
            peers[Self.nodeID(named: peer.name)] = PeerAddress(host: peer.host, port: peer.port)
        }
        return peers
    }

    /// Gives the group the transport its messages go out on (shared by the node's groups,
    /// owned by the caller). Call it before a peer's message can reach the group, that is
    /// before the transport starts listening or the group is registered for delivery, and
    /// before anything else runs on the raft loop: nothing else may touch the group then, so
    /// a plain store is safe, and whatever hands the group to the loop afterwards (the
    /// transport's start, the registry's lock) publishes it. A message triggers a pump and a
    /// pump sends; a node restarted into a busy cluster once got a message in between and
    /// crashed on the missing transport.
    public func attach(transport: PeerTransport) {
        self.transport = transport
    }

    /// Starts the tick timer. The group's messages go out on the transport that
    /// ``attach(transport:)`` gave it.
    public func start() {
        precondition(transport != nil, "a group starts after attach(transport:)")
        executor.replication.install(self)
        tickTask = loop.scheduleRepeatedTask(
            initialDelay: .milliseconds(Int64(configuration.tickMillis)),
            delay: .milliseconds(Int64(configuration.tickMillis))
        ) { [self] _ in tick() }
        loop.execute { [self] in
            if let onKeyspaceDefined {
                for definition in catalog.sorted { onKeyspaceDefined(definition) }
            }
            refreshStatus()
            schedulePump()
        }
    }

    /// A keyspace group learns its keyspace's new definition (members changed). Any thread.
    func updateKeyspace(_ definition: KeyspaceDefinition) {
        loop.execute { [self] in
            for member in definition.members { names[Self.nodeID(named: member)] = member }
            desiredKeyspace = definition
        }
    }

    /// Stops ticking and fails what is still waiting; the loop keeps running (the transport
    /// may live on it). Idempotent. Blocks; call it off the event loops.
    public func stop() {
        try? loop.submit { [self] in
            guard !isStopped || tickTask != nil else { return }
            isStopped = true
            tickTask?.cancel()
            tickTask = nil
            failEverything(Self.shuttingDown)
        }.wait()
    }

    /// ``stop()``, then shuts the raft loop down. Blocks; call it off the event loops, after
    /// shutting down a transport that runs on this loop.
    public func shutdown() {
        stop()
        loopClosed.withLockedValue { $0 = true }
        try? raftGroup.syncShutdownGracefully()
    }

    /// Runs `task` on the raft loop; returns false (and drops it) once the loop is shut down.
    /// Any thread.
    @discardableResult
    func execute(_ task: @escaping @Sendable () -> Void) -> Bool {
        loopClosed.withLockedValue { closed in
            guard !closed else { return false }
            loop.execute(task)
            return true
        }
    }

    /// Runs `task` on the raft loop: at once when called there (the transport delivers on the
    /// default group's loop), otherwise as ``execute(_:)`` does.
    func run(_ task: @escaping @Sendable (ReplicationDriver) -> Void) {
        if loop.inEventLoop {
            task(self)
        } else {
            execute { [self] in task(self) }
        }
    }

    static let groupClosed = RESPValue.error(
        "TRYAGAIN this node no longer replicates the keyspace; COHORT USE it again")

    static let shuttingDown = RESPValue.error("TRYAGAIN the node is shutting down")
    static let notReplicated = RESPValue.error(
        "NOTREPLICATED the write is committed on a majority and applied, but not every voter"
            + " acknowledged it within the write timeout")
    static let uncertain = RESPValue.error(
        "UNCERTAIN the write's outcome is unknown (leader change or timeout); it may or may not"
            + " have been applied")

    // MARK: Events

    func tick() {
        guard !isStopped else { return }
        node.tick()
        reconcileKeyspaceMembership()
        checkLeftKeyspace()
        expireDeadlines(nowMillis: WallClock.nowMillis())
        schedulePump()
        refreshStatus()
    }

    func receive(_ message: RaftMessage) {
        guard !isStopped else { return }
        node.receive(message)
        schedulePump()
    }

    /// Runs `pump()` once after the events already queued on the loop: events that arrive
    /// while a ready is being persisted share the next ready (and its fsync).
    func schedulePump() {
        guard !pumpScheduled, !isStopped else { return }
        pumpScheduled = true
        loop.execute { [self] in pump() }
    }

    /// Drains the node's readies: persist, send, apply, answer.
    func pump() {
        pumpScheduled = false
        guard !isStopped else { return }
        while node.hasReady {
            let ready = node.ready()
            recordDiscardedEntries(replacedBy: ready)
            let termOrVoteChanged =
                ready.hardState.map {
                    $0.term != syncedHardState.term || $0.votedFor != syncedHardState.votedFor
                } ?? false
            // A leader in a steady term sends before its own fsync, so the followers' fsyncs
            // overlap the leader's (Raft thesis §10.2.1): its messages carry entries, commit
            // indexes and read confirmations, none of which promise anything about the leader's
            // disk, and the leader counts itself toward a commit only once `advance` says its
            // entries are durable. Anything else (votes, acknowledgements, a new term) waits.
            let sendsEarly = node.isLeader && !termOrVoteChanged
            if sendsEarly {
                for message in ready.messages { transport.send(message, group: groupID) }
                transport.flushQueuedOnCurrentLoop()
            }
            // A steady leader's committed entries are already durable here (it counts itself
            // toward a commit only once `advance` says so), and a read confirmation does not
            // depend on the new entries: answer them before this ready's fsync, so the replies
            // of one batch do not wait for the next batch's disk write.
            let appliesEarly = sendsEarly && ready.snapshot == nil
            if appliesEarly {
                apply(ready.committedEntries)
                for readState in ready.readStates { readIndexAnswered(readState) }
            }
            // A steady leader's new entries need no fsync before anything here: its messages
            // are out, and the node neither counts nor applies them until told they are
            // durable. Their fsync runs on `syncQueue` (`startLeaderSync`), so this loop reads
            // the followers' acknowledgements and new requests meanwhile instead of blocking.
            let defersSync = appliesEarly && !ready.entriesToAppend.isEmpty
            do {
                try store.write(ready)
                // Entries, snapshots, terms and votes must be durable before any message that
                // depends on them goes out. A ready that only moves the commit index needs no
                // fsync of its own: a lost commit record only makes a restart re-learn the
                // commit index from the leader. A node that stopped leading while its entries'
                // fsync was deferred syncs before it answers anyone.
                if defersSync {
                    let last = ready.entriesToAppend[ready.entriesToAppend.count - 1]
                    leaderUnsyncedThrough = (last.index, last.term)
                } else if !ready.entriesToAppend.isEmpty || ready.snapshot != nil
                    || termOrVoteChanged
                    || (!sendsEarly && (leaderUnsyncedThrough != nil || isLeaderSyncRunning))
                {
                    try store.sync()
                    syncedHardState = store.hardState
                }
            } catch {
                // A log that cannot be made durable cannot vote or acknowledge: stop the node
                // rather than risk acknowledging what a crash would lose (fsyncgate).
                stop(because: "the Raft log write failed", error: "\(error)")
                return
            }
            if !sendsEarly {
                for message in ready.messages { transport.send(message, group: groupID) }
                // Acknowledgements and votes leave before this node applies entries.
                transport.flushQueuedOnCurrentLoop()
            }
            if !appliesEarly {
                if let snapshot = ready.snapshot { installSnapshot(snapshot) }
                apply(ready.committedEntries)
                for readState in ready.readStates { readIndexAnswered(readState) }
            }
            if let softState = ready.softState { roleChanged(softState) }
            node.advance(ready, entriesDurable: !defersSync)
            if !defersSync, let unsynced = leaderUnsyncedThrough {
                // This ready's sync covered the deferred entries too.
                leaderUnsyncedThrough = nil
                node.entriesBecameDurable(through: unsynced.index, term: unsynced.term)
            }
            acknowledgeLeaderDurable()
        }
        startLeaderSync()
        acknowledgeAllReplicated()
        answerReplicaWaits(nowMillis: WallClock.nowMillis())
        if node.commitIndex > .zero && appliedIndex >= node.commitIndex {
            lastCaughtUpMillis = WallClock.nowMillis()
        }
        maybeCompactLog()
    }

    /// Fails every waiting request with `reply`.
    func failEverything(_ reply: RESPValue) {
        for pending in pendingWrites.values { pending.completion(reply, 0) }
        pendingWrites.removeAll()
        for waiter in appliedWaiters { waiter.completion(.refused(reply)) }
        appliedWaiters.removeAll()
        for request in readIndexRequests.values { request.completion(.refused(reply)) }
        readIndexRequests.removeAll()
        for request in forwardedRequests.values { request.completion(reply, 0) }
        forwardedRequests.removeAll()
        for wait in replicaWaits { wait.completion(reply, 0) }
        replicaWaits.removeAll()
        for request in leaderless { request.fail() }
        leaderless.removeAll()
    }

    static func keyWrite(_ effect: KeyEffect) -> (key: [UInt8], write: KeyWrite) {
        switch effect {
        case .put(let key, let value, let valueType, let expiresAtMillis):
            return (
                key,
                .put(
                    value: value, type: ValueType(rawValue: valueType) ?? .string,
                    expiresAtMillis: expiresAtMillis)
            )
        case .delete(let key):
            return (key, .delete)
        }
    }

    static func effect(key: [UInt8], write: KeyWrite) -> KeyEffect {
        switch write {
        case .put(let value, let type, let expiresAtMillis):
            return .put(
                key: key, value: value, valueType: type.rawValue, expiresAtMillis: expiresAtMillis)
        case .delete:
            return .delete(key: key)
        }
    }
}

/// The answer to a read's request to run.
public enum ReadGate: Sendable {
    /// Run the read now; this node has applied `appliedIndex`.
    case proceed(appliedIndex: UInt64)
    /// Do not run it; send this error.
    case refused(RESPValue)
}
