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

/// Hosts one node's ``LeaderGroup`` (one per keyspace) in the real world: SwiftNIO, files with
/// fsync, the system's clocks. It holds no replication policy: the group decides, and this
/// host feeds it ticks, peer messages and client requests on one event loop (the "raft
/// loop"), runs the ``LeaderGroupAction``s it returns (Raft log writes and fsyncs, engine
/// applies, messages, replies) and hands back their completions.
///
/// Clients' requests become ``RequestID``s; their completions wait here until the group
/// answers them. A steady leader's log fsyncs run on `syncQueue` and snapshots are encoded
/// and written on background threads, so the raft loop keeps reading acknowledgements and new
/// requests meanwhile.
///
/// Groups: the default keyspace's group (id 0) also carries the cluster's membership
/// (``MemberEntry``) and its keyspace catalog (``KeyspaceDefinition``); a keyspace's group
/// carries only its own data. Every group has its own log, engine and raft loop; they share
/// the node's ``PeerTransport`` (see ``ClusterNode``).
///
/// Everything named "loop-confined" is touched only on `loop`.
public final class ReplicationDriver: @unchecked Sendable {
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
    /// Default group only: called on the raft loop with the keyspace catalog each time it
    /// changed and was saved. Set before ``start()``.
    var onCatalogSaved: (@Sendable (KeyspaceCatalog) -> Void)?
    /// Default group only: more INFO replication fields (the node shell's).
    var extraStatusFields: (@Sendable () -> [(String, String)])? {
        get { extraStatusBox.withLockedValue { $0 } }
        set { extraStatusBox.withLockedValue { $0 = newValue } }
    }
    private let extraStatusBox = NIOLockedValueBox<(@Sendable () -> [(String, String)])?>(nil)
    let raftGroup: MultiThreadedEventLoopGroup
    /// The raft loop.
    let loop: any EventLoop
    private(set) var transport: PeerTransport!
    /// Default group: what this node remembers of its peers' data directories, which a member
    /// entry readmitting a removed node updates (set with the transport).
    /// (Read by connections on any thread.)
    var identity: NodeIdentityStore? { identityBox.withLockedValue { $0 } }
    private let identityBox = NIOLockedValueBox<NodeIdentityStore?>(nil)

    // Loop-confined state.
    /// The group and the storage it runs over.
    var runtime: LeaderGroupRuntime!
    var pumpScheduled = false
    var isStopped = false
    var tickTask: RepeatedTask?
    /// Runs a leader's Raft log fsyncs off the raft loop.
    let syncQueue = DispatchQueue(label: "cohort.raft-sync")
    let rollbackLog: RollbackLog
    /// The cluster's size limits, derived from the client protocol's (see ``ClusterLimits``).
    let limits: ClusterLimits

    /// The group's decisions (loop-confined).
    var group: LeaderGroup { runtime.group }

    // Shared with other threads.
    let statusBox = NIOLockedValueBox(LeaderGroupStatus())
    /// Default group: the names of the members added online (read on any thread).
    let knownPeerNamesBox = NIOLockedValueBox<[String]>([])
    var knownPeerNames: [String] { knownPeerNamesBox.withLockedValue { $0 } }
    let catalogBox = NIOLockedValueBox(KeyspaceCatalog())
    /// Set (under its lock) just before the raft loop shuts down: tasks from other threads
    /// are then refused instead of handed to a dead loop, where they would never run.
    private let loopClosed = NIOLockedValueBox(false)

    /// Opens the Raft log in `<data-dir>/raft`, restores the state machine if the engine is
    /// behind the log's snapshot, and creates the group. `keyspace` is nil for the default
    /// keyspace's group; otherwise `configuration.dataDirectory` is the keyspace's own
    /// directory and the group starts with the members the definition names. Call
    /// ``start()`` next.
    public init(
        configuration: ServerConfiguration, executor: CommandExecutor, logger: Logger,
        keyspace definition: KeyspaceDefinition? = nil
    ) throws {
        self.configuration = configuration
        self.limits = ClusterLimits(configuration)
        self.executor = executor
        self.engine = executor.engine
        self.logger = logger
        self.groupID = definition?.groupID ?? 0
        self.keyspace = definition?.name ?? KeyspaceDefinition.defaultName
        self.nodeID = LeaderGroup.nodeID(named: configuration.nodeName)
        let knownPeers =
            definition == nil ? Self.loadPeers(path: configuration.dataDirectory + "/peers") : [:]
        let catalog =
            definition == nil
            ? try LeaderGroupRuntime.loadCatalog(
                directory: configuration.dataDirectory, device: POSIXStorageDevice.shared)
            : KeyspaceCatalog()
        var storeOptions = RaftLogStoreOptions.cluster(for: configuration)
        storeOptions.segmentPreallocationBytes = Self.raftLogPreallocationBytes
        self.store = try RaftLogStore.open(
            directory: configuration.dataDirectory + "/raft", options: storeOptions)
        self.rollbackLog = try RollbackLog(path: configuration.dataDirectory + "/rollback.log")
        let durable = store.durableState
        let engineApplied = try LeaderGroupRuntime.restoreEngine(
            engine, from: store, nowMillis: WallClock.nowMillis(), directory: store.directory)
        let groupConfiguration = LeaderGroupConfiguration(
            groupID: GroupID(definition?.groupID ?? 0), keyspace: keyspace,
            nodeName: configuration.nodeName, founders: configuration.peers.map(\.name),
            joins: configuration.joins, definition: definition,
            raft: RaftConfig.cluster(for: configuration),
            writeTimeoutMillis: UInt64(configuration.writeTimeoutMillis),
            readTimeoutMillis: UInt64(configuration.readTimeoutMillis),
            snapshotEntries: UInt64(configuration.snapshotEntries),
            defaultAckMode: configuration.ackMode)
        let group = LeaderGroup(
            configuration: groupConfiguration, evaluator: executor, durable: durable,
            engineApplied: engineApplied, catalog: catalog,
            knownPeers: knownPeers.mapValues { PeerEndpoint(host: $0.host, port: $0.port) },
            randomSeed: nodeID.rawValue ^ WallClock.monotonicNanos(), now: Self.now())
        self.raftGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.loop = raftGroup.next()
        catalogBox.withLockedValue { $0 = catalog }
        knownPeerNamesBox.withLockedValue { $0 = knownPeers.keys.sorted() }
        self.runtime = LeaderGroupRuntime(
            group: group, store: store, engine: engine, rollback: rollbackLog,
            dataDirectory: configuration.dataDirectory, environment: self)
        wireRuntime()
        logger.info(
            "replication group opened",
            metadata: ["node": "\(configuration.nodeName)", "keyspace": "\(keyspace)"])
    }

    /// Both clocks, read now: deadlines use the monotonic one (a step of the system clock
    /// moves no deadline), TTLs and rollback records the wall clock.
    static func now() -> GroupTime {
        GroupTime(
            monotonicMillis: WallClock.monotonicNanos() / 1_000_000,
            wallMillis: WallClock.nowMillis())
    }

    /// Zeroes preallocated ahead of the Raft log's records (see
    /// ``RaftLogStoreOptions/segmentPreallocationBytes``): every fsync of a write then
    /// flushes only data. 1 MiB is about 6,000 small writes, so the extension (and the larger
    /// fsync that follows it) is rare.
    static let raftLogPreallocationBytes = 1 << 20

    /// A stable numeric id for a node name (FNV-1a, never zero).
    public static func nodeID(named name: String) -> NodeID {
        LeaderGroup.nodeID(named: name)
    }

    /// The peers to dial: members added online, then the command line's (which wins).
    var peerAddresses: [NodeID: PeerAddress] {
        var peers: [NodeID: PeerAddress] = [:]
        for (name, endpoint) in group.knownPeers where name != configuration.nodeName {
            peers[Self.nodeID(named: name)] = PeerAddress(host: endpoint.host, port: endpoint.port)
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
    ///
    /// `identity` (default group only) is what the transport checks peers against.
    public func attach(transport: PeerTransport, identity: NodeIdentityStore? = nil) {
        self.transport = transport
        identityBox.withLockedValue { $0 = identity }
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
                for definition in group.catalog.sorted { onKeyspaceDefined(definition) }
            }
            refreshStatus()
            schedulePump()
        }
    }

    /// A keyspace group learns its keyspace's new definition (members changed). Any thread.
    func updateKeyspace(_ definition: KeyspaceDefinition) {
        execute { [self] in runtime.updateKeyspace(definition) }
    }

    /// Stops ticking and fails what is still waiting; the loop keeps running (the transport
    /// may live on it). Idempotent. Blocks; call it off the event loops.
    public func stop() {
        try? loop.submit { [self] in
            tickTask?.cancel()
            tickTask = nil
            guard !isStopped else { return }
            runtime.shutDown()
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

    // MARK: Inputs

    func tick() {
        guard !isStopped else { return }
        runtime.tick()
        schedulePump()
        refreshStatus()
    }

    func receive(_ message: RaftMessage) {
        guard !isStopped else { return }
        runtime.receive(message)
        schedulePump()
    }

    /// A follower's forwarded request or the leader's answer.
    func receiveForward(_ payload: [UInt8], from peer: NodeID) {
        guard !isStopped else { return }
        runtime.receiveForward(payload, from: peer)
        schedulePump()
    }

    /// Runs a write command for a client of this node. `completion` gets the reply and the log
    /// index that carries the write (0 when none), on the raft loop. Any thread.
    public func submitWrite(
        _ arguments: [[UInt8]], token: UInt64, ackMode: AckMode,
        completion: @escaping @Sendable (RESPValue, UInt64) -> Void
    ) {
        // Clients of the default keyspace are served on its raft loop: no hop then. The
        // completion never runs inline here (replies come from a later pump), so the caller
        // is not re-entered.
        if loop.inEventLoop {
            return startWrite(arguments, token: token, ackMode: ackMode, completion: completion)
        }
        let accepted = execute { [self] in
            startWrite(arguments, token: token, ackMode: ackMode, completion: completion)
        }
        if !accepted { completion(Self.groupClosed, 0) }
    }

    private func startWrite(
        _ arguments: [[UInt8]], token: UInt64, ackMode: AckMode,
        completion: @escaping @Sendable (RESPValue, UInt64) -> Void
    ) {
        // A command no replicated entry can carry is refused here, with the limit named (not
        // TRYAGAIN: retrying cannot help).
        if let refusal = limits.refusal(forArguments: arguments) {
            return completion(refusal, 0)
        }
        runtime.submitWrite(
            arguments, token: SessionToken(wireValue: token), ackMode: ackMode,
            completion: completion)
        schedulePump()
    }

    /// Asks when a read with `consistency` may run here. `token` is the session's token: the
    /// read waits until this node has applied it (read-your-writes, monotonic reads).
    /// `completion` runs on the raft loop. Any thread.
    public func submitRead(
        consistency: ReadConsistency, token: UInt64,
        completion: @escaping @Sendable (ReadGate) -> Void
    ) {
        let accepted = execute { [self] in
            runtime.submitRead(
                consistency: consistency, token: SessionToken(wireValue: token),
                completion: completion)
            schedulePump()
        }
        if !accepted { completion(.refused(Self.groupClosed)) }
    }

    /// Runs `pump()` once after the events already queued on the loop: events that arrive
    /// while a ready is being persisted share the next ready (and its fsync).
    func schedulePump() {
        guard !pumpScheduled, !isStopped else { return }
        pumpScheduled = true
        loop.execute { [self] in pump() }
    }

    /// Runs the group's actions until it has none (loop-confined).
    func pump() {
        pumpScheduled = false
        runtime.pump()
    }
}
