import CohortCore
import CohortNode
import CohortRaft
import CohortReplication
import CohortStorage

/// One simulated server running the production node: the real command layer, storage engine
/// and Raft log store over a ``SimulatedStorageDevice``, and the real ``LeaderGroupRuntime``
/// and ``LeaderGroup``. This type is only the environment (DESIGN.md §2): its network is the
/// simulation's, its background work becomes scheduled events, its clocks are the simulated
/// time as this node's drifting, steppable clock reads it.
final class SimNode: GroupEnvironment, @unchecked Sendable {
    let index: Int
    let id: NodeID
    let name: String
    unowned let world: Simulation
    /// The node's disk: it survives crashes (losing what was not synced).
    var device = SimulatedStorageDevice()
    /// The running node; nil while crashed or not started.
    var runtime: LeaderGroupRuntime?
    var executor: CommandExecutor?
    /// Bumped at every start and crash, so events of an earlier life are recognized.
    var incarnation = 0
    /// The node's tick period: nominal tick times its drift.
    var tickMicros: UInt64
    /// Ticks the node's clock will skip before its next tick (a stalled clock).
    var stallTicks = 0
    /// Steps of the node's wall clock (the monotonic one never steps).
    var wallStepMillis: Int64 = 0
    /// Whether the node should be running (false for spares not yet added).
    var isMember: Bool
    /// A node that joins a running cluster (added online) rather than founding it.
    var joins = false
    /// Work handed off the node's thread, by job number.
    var offloaded: [UInt64: @Sendable () -> @Sendable () -> Void] = [:]
    var nextJob: UInt64 = 1
    /// Sessions of simulated clients connected to this node, by client.
    var sessions: [Int: ClientSession] = [:]
    /// The node's shell (nil while down): its keyspace groups and proxying.
    var shell: NodeShell?
    /// Keyspace groups running here, by id.
    var keyspaceGroups: [GroupID: SimKeyspaceGroup] = [:]
    /// Completions of commands this node proxied, by the shell's request id.
    var proxyCompletions: [RequestID: (RESPValue, UInt64) -> Void] = [:]
    var nextProxyRequest: UInt64 = 1
    /// Keyspace groups this node closed (in any life): opening one again over its old
    /// directory is what the checks want to see happen.
    var closedKeyspaces: Set<GroupID> = []
    /// What `start` built, for the keyspace groups it opens later.
    var settings: Settings?

    /// The configuration a node's groups share.
    struct Settings {
        var server: ServerConfiguration
        var storage: StorageOptions
        var log: RaftLogStoreOptions
        var raft: RaftConfig
        var parameters: SimulationParameters
        var faults: LeaderGroupFaults
        var founders: [String]
    }
    /// What the safety checker saw after the previous event.
    var commitSeen = LogIndex.zero
    /// The snapshot index after the node's previous event (a growth is a snapshot taken or
    /// installed).
    var snapshotSeen = LogIndex.zero
    var leaderTermSeen: Term?
    var eventsHandled = 0
    /// The commit index through which the checks read this node's entries (this life).
    var committedScanned = LogIndex.zero

    init(index: Int, world: Simulation, tickMicros: UInt64, isMember: Bool) {
        self.index = index
        self.name = "n\(index + 1)"
        self.id = LeaderGroup.nodeID(named: "n\(index + 1)")
        self.world = world
        self.tickMicros = tickMicros
        self.isMember = isMember
    }

    var isUp: Bool { runtime != nil }
    var raft: RaftNode? { runtime?.group.raft }

    static let dataDirectory = "/data"

    // MARK: GroupEnvironment

    /// The node's monotonic clock: simulated time as its drifting tick period counts it.
    func now() -> GroupTime {
        let local = world.nowMicros * SimulationOptions.tickMicros / tickMicros
        let monotonic = local / 1_000
        let wall = Int64(Simulation.epochMillis + monotonic) + wallStepMillis
        return GroupTime(monotonicMillis: monotonic, wallMillis: UInt64(max(0, wall)))
    }

    func send(_ messages: [RaftMessage], group: GroupID) {
        for message in messages {
            // Encoded as on the wire: the simulator exercises the codec too.
            world.transmit(
                .raft(group, RaftMessageCodec.encode(message)), from: id, to: message.to)
        }
        world.crashPointAfterSending(index, messages)
    }

    func forward(_ bytes: [UInt8], to peer: NodeID, group: GroupID) {
        // A fault point in product policy's path: forwards are dropped now and then.
        if world.buggify(.dropForward) { return }
        world.transmit(.forward(group, bytes), from: id, to: peer)
    }

    func addPeer(_ peer: NodeID, endpoint: PeerEndpoint, admittedAt: LogIndex) {}

    func offload(_ kind: OffloadKind, _ work: @escaping @Sendable () -> @Sendable () -> Void) {
        let job = nextJob
        nextJob += 1
        offloaded[job] = work
        world.scheduleOffload(node: index, incarnation: incarnation, job: job, kind: kind)
    }

    /// An offloaded job's time has come: run it and its continuation.
    func runOffloaded(_ job: UInt64) {
        guard let work = offloaded.removeValue(forKey: job), isUp else { return }
        let continuation = work()
        continuation()
        // The environment is shared by the node's groups: pump each (an idle one does nothing).
        pumpAll()
    }

    /// Pumps every group of the node, the default one first, then keyspaces in id order.
    func pumpAll() {
        runtime?.pump()
        for id in keyspaceGroups.keys.sorted() { keyspaceGroups[id]?.runtime.pump() }
    }

    /// The runtime of group `id` here; nil when it does not run here.
    func runtime(of id: GroupID) -> LeaderGroupRuntime? {
        id.isDefault ? runtime : keyspaceGroups[id]?.runtime
    }

    // MARK: Life cycle

    /// Starts (or restarts) the node from what its disk holds.
    func start(founders: [String], parameters: SimulationParameters, faults: BrokenVariant?)
        throws
    {
        incarnation += 1
        offloaded.removeAll()
        sessions.removeAll()
        keyspaceGroups.removeAll()
        proxyCompletions.removeAll()
        committedScanned = .zero
        var storage = StorageOptions()
        storage.device = device
        storage.backgroundWork = .inline
        storage.fsync = .everysec
        // Small segments and no preallocation: rotation, hints and compaction happen within a
        // run, and a simulated disk does not copy megabytes of zeroes per restart.
        storage.segmentBytesMax = 64 << 10
        storage.segmentPreallocationBytes = 0
        storage.valueCacheBytesMax = 1 << 20
        let engine = try StorageEngine.open(
            directory: Self.dataDirectory, options: storage, nowMillis: now().wallMillis)
        var configuration = ServerConfiguration()
        configuration.nodeName = name
        configuration.dataDirectory = Self.dataDirectory
        configuration.peers = founders.map { ClusterPeer(name: $0, host: "sim", port: 1) }
        configuration.joins = joins
        let executor = CommandExecutor(
            engine: engine, configuration: configuration, statistics: ServerStatistics(),
            startedAtMillis: now().wallMillis)
        var logOptions = RaftLogStoreOptions()
        logOptions.device = device
        logOptions.segmentBytesMax = 256 << 10
        let store = try RaftLogStore.open(
            directory: Self.dataDirectory + "/raft", options: logOptions)
        let durable = store.durableState
        let engineApplied = try LeaderGroupRuntime.restoreEngine(
            engine, from: store, nowMillis: now().wallMillis, directory: store.directory)
        var raftConfig = RaftConfig()
        raftConfig.electionTimeoutTicksMin = parameters.electionTimeoutTicksMin
        raftConfig.electionTimeoutTicksMax = parameters.electionTimeoutTicksMax
        raftConfig.heartbeatIntervalTicks = parameters.heartbeatIntervalTicks
        raftConfig.preVote = parameters.preVote
        raftConfig.checkQuorum = parameters.checkQuorum
        raftConfig.entriesPerMessageMax = parameters.entriesPerMessageMax
        raftConfig.faults = faults?.raftFaults ?? []
        var groupConfiguration = LeaderGroupConfiguration(
            groupID: .defaultGroup, keyspace: KeyspaceDefinition.defaultName, nodeName: name,
            founders: founders, joins: joins, definition: nil, raft: raftConfig,
            writeTimeoutMillis: parameters.writeTimeoutMillis,
            readTimeoutMillis: parameters.readTimeoutMillis,
            snapshotEntries: parameters.snapshotEntries, defaultAckMode: .majority)
        groupConfiguration.faults = faults?.groupFaults ?? []
        settings = Settings(
            server: configuration, storage: storage, log: logOptions, raft: raftConfig,
            parameters: parameters, faults: groupConfiguration.faults, founders: founders)
        let catalog = try LeaderGroupRuntime.loadCatalog(
            directory: Self.dataDirectory, device: device)
        let group = LeaderGroup(
            configuration: groupConfiguration, evaluator: executor, durable: durable,
            engineApplied: engineApplied, catalog: catalog, knownPeers: [:],
            randomSeed: world.random.next(), now: now())
        let runtime = LeaderGroupRuntime(
            group: group, store: store, engine: engine, rollback: world.rollback(of: index),
            dataDirectory: Self.dataDirectory, environment: self)
        runtime.onLog = { [unowned self] level, message, _ in
            if level == .critical { world.nodeStopped(index, message) }
        }
        runtime.onKeyspaceDefined = { [unowned self] definition in
            withShell { $0.keyspaceDefined(definition) }
        }
        runtime.onCatalogSaved = { [unowned self] saved in withShell { $0.catalogSaved(saved) } }
        self.executor = executor
        self.runtime = runtime
        snapshotSeen = group.raft.snapshotIndex
        if world.options.traceLinesMax > 0 {
            world.trace(
                "\(name) recovered: log last \(group.raft.lastIndex)@\(group.raft.lastTerm)"
                    + " commit \(group.raft.commitIndex) engine \(engineApplied)"
                    + " snapshot \(group.raft.snapshotIndex) term \(group.raft.term)")
        }
        var shellConfiguration = NodeShellConfiguration(
            nodeName: name, proxyTimeoutMillis: parameters.writeTimeoutMillis + 2_000)
        // The simulated network duplicates frames, late by up to its longest delay.
        let network = parameters.network
        shellConfiguration.faults = faults?.shellFaults ?? []
        shellConfiguration.duplicateDelayMillisMax =
            (network.delayMicrosMax + network.longDelayMicrosMax) / 1_000 + 1
        shell = NodeShell(
            configuration: shellConfiguration,
            randomSeed: world.random.next(), now: now())
        withShell { $0.start(catalog: catalog) }
        runtime.pump()
    }

    /// Crashes the node: its memory is gone, its disk keeps what was synced (sometimes an
    /// ordered prefix of the rest, torn at the end).
    func crash(random: inout SimRandom, keepsUnsyncedPrefixProbability: Double) {
        guard isUp else { return }
        incarnation += 1
        device.crash(
            random: &random, keepsUnsyncedPrefixProbability: keepsUnsyncedPrefixProbability)
        // The old engine's handles fail with EIO from here on; dropping it writes nothing.
        runtime = nil
        executor = nil
        shell = nil
        keyspaceGroups.removeAll()
        proxyCompletions.removeAll()
        offloaded.removeAll()
        sessions.removeAll()
    }

    /// One tick of the node's clock: the group's timer and the engine's background work.
    func tick() {
        guard let runtime, let executor else { return }
        runtime.tick()
        _ = executor.engine.runPendingSync()
        _ = executor.engine.runPendingBackgroundWork(nowMillis: now().wallMillis)
        runtime.pump()
        for id in keyspaceGroups.keys.sorted() {
            guard let group = keyspaceGroups[id] else { continue }
            group.runtime.tick()
            _ = group.executor.engine.runPendingSync()
            _ = group.executor.engine.runPendingBackgroundWork(nowMillis: now().wallMillis)
            group.runtime.pump()
        }
        let time = now()
        withShell { $0.tick(now: time) }
    }
}
