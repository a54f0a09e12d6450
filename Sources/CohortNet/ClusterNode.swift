import CohortCore
import CohortNode
import CohortRaft
import CohortReplication
import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One clustered node: the peer transport it shares between its replication groups, the
/// default keyspace's group, and a group for every other keyspace this node is a member of.
///
/// It is the NIO host of the node's ``NodeShell``, which decides which keyspace groups run
/// here and proxies commands for keyspaces this node does not replicate; this class carries
/// out the shell's actions (see `ClusterNode+Shell.swift`). The shell and its request table
/// are confined to the default group's raft loop, where the transport delivers.
///
/// Keyspaces are defined in the default group's log (``KeyspaceDefinition``). A keyspace group
/// keeps its engine and Raft log under `<data-dir>/keyspaces/<name>`; after a restart the saved
/// catalog starts them again. Peer messages are routed to groups by the group id on each
/// frame; messages for a group this node has not started yet are dropped (Raft retransmits).
public final class ClusterNode: Sendable {
    /// A keyspace's group on this node: its executor (over its own engine) and its driver.
    public struct Group: Sendable {
        /// Runs the keyspace's commands against its engine.
        public let executor: CommandExecutor
        /// Replicates the keyspace.
        public let driver: ReplicationDriver

        /// The keyspace's name.
        public var keyspace: String { driver.keyspace }
    }

    /// The default keyspace's group.
    public let defaultGroup: Group
    let configuration: ServerConfiguration
    let logger: Logger
    let makeExecutor: @Sendable (ServerConfiguration) throws -> CommandExecutor
    let transportBox = NIOLockedValueBox<PeerTransport?>(nil)
    /// The shell and what waits on it (confined to the default group's raft loop).
    let shellHost: ShellHost
    /// Keyspace groups by group id (a name's id is ``KeyspaceDefinition/groupID(named:)``):
    /// read by connections on any thread, changed on the raft loop.
    let groups = NIOLockedValueBox<[UInt64: Group]>([:])
    /// Leaderless keyspaces on this node, by group id (read by connections on any thread,
    /// changed on the raft loop).
    let leaderlessHosts = NIOLockedValueBox<[UInt64: LeaderlessHost]>([:])
    /// The shell's INFO fields as of its last tick (read by connections on any thread; copied
    /// per tick, not per proxied command).
    let shellStatus = NIOLockedValueBox<[(String, String)]>([])

    /// How often the shell's deadlines are checked.
    static let shellTickMillis: Int64 = 100

    /// Opens the default group over `executor`. `makeExecutor` opens the engine of a keyspace
    /// whose configuration it is given (its data directory and default acknowledgement mode).
    public init(
        configuration: ServerConfiguration, executor: CommandExecutor, logger: Logger,
        makeExecutor: @escaping @Sendable (ServerConfiguration) throws -> CommandExecutor
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.makeExecutor = makeExecutor
        let driver = try ReplicationDriver(
            configuration: configuration, executor: executor, logger: logger)
        self.defaultGroup = Group(executor: executor, driver: driver)
        let shell = NodeShell(
            configuration: NodeShellConfiguration(
                nodeName: configuration.nodeName,
                proxyTimeoutMillis: UInt64(configuration.writeTimeoutMillis) + 2_000),
            randomSeed: driver.nodeID.rawValue ^ WallClock.monotonicNanos(),
            now: ReplicationDriver.now())
        self.shellHost = ShellHost(shell: shell)
    }

    /// Starts the peer transport and the default group (which starts the keyspace groups it
    /// knows); returns the peer port bound. Blocks until bound.
    public func start() throws -> Int {
        let driver = defaultGroup.driver
        var transportConfiguration = PeerTransportConfiguration(
            nodeID: driver.nodeID, clusterName: "cohort",
            clusterSecret: configuration.clusterSecret, peers: driver.peerAddresses)
        transportConfiguration.bindHost = configuration.peerBindAddress
        transportConfiguration.port = configuration.peerPort
        transportConfiguration.reconnectDelayMillisMax = 500
        transportConfiguration.reconnectJitterSeed = driver.nodeID.rawValue
        transportConfiguration.outboundQueueMessagesMax = 65_536
        transportConfiguration.apply(ClusterLimits(configuration))
        let identity = try NodeIdentityStore.open(directory: configuration.dataDirectory)
        let transport = PeerTransport(
            // The transport runs on the default group's raft loop: its messages then reach Raft
            // and leave it without a thread hop on either side, which is most of a write's
            // latency on a busy machine. Other keyspaces' groups hop to their own loops.
            configuration: transportConfiguration, group: driver.raftGroup, identity: identity,
            logger: logger,
            onMessage: { [self] group, message in
                self.driver(for: group)?.run { $0.receive(message) }
            },
            onForward: { [self] peer, group, payload in
                if let host = leaderlessHosts.withLockedValue({ $0[group] }) {
                    host.receive(payload, from: peer)
                    return
                }
                if ForwardMessage.isProxy(payload) {
                    // Delivered on the default group's loop, where the shell lives.
                    withShell {
                        $0.receiveProxyFrame(
                            payload, group: GroupID(group), from: peer, now: ReplicationDriver.now()
                        )
                    }
                    return
                }
                self.driver(for: group)?.run { $0.receiveForward(payload, from: peer) }
            })
        driver.attach(transport: transport, identity: identity)
        transportBox.withLockedValue { $0 = transport }
        // Keyspaces known from the saved catalog start here, before any message arrives or
        // the default group ticks: recovering a large keyspace's engine must not stall the
        // default group's loop. Nothing else touches the shell yet.
        withShell { $0.start(catalog: catalog) }
        shellHost.timer = driver.loop.scheduleRepeatedTask(
            initialDelay: .milliseconds(Self.shellTickMillis),
            delay: .milliseconds(Self.shellTickMillis)
        ) { [self] _ in
            withShell { $0.tick(now: ReplicationDriver.now()) }
            let fields = shellHost.shell.statusFields
            shellStatus.withLockedValue { $0 = fields }
        }
        let port = try transport.start()
        driver.onKeyspaceDefined = { [self] definition in
            withShell { $0.keyspaceDefined(definition) }
        }
        driver.onCatalogSaved = { [self] saved in withShell { $0.catalogSaved(saved) } }
        driver.extraStatusFields = { [shellStatus] in shellStatus.withLockedValue { $0 } }
        driver.start()
        return port
    }

    /// Stops every group, then the transport; closes the keyspaces' engines (the caller closes
    /// the default one). Blocks.
    public func shutdown() {
        let keyspaces = groups.withLockedValue { groups in
            defer { groups = [:] }
            return Array(groups.values)
        }
        try? defaultGroup.driver.loop.submit { [self] in
            shellHost.timer?.cancel()
            shellHost.timer = nil
            withShell { $0.shutDown() }
            shellHost.isStopped = true
        }.wait()
        defaultGroup.driver.stop()
        for group in keyspaces { group.driver.shutdown() }
        let leaderless = leaderlessHosts.withLockedValue { hosts in
            defer { hosts = [:] }
            return Array(hosts.values)
        }
        for host in leaderless { host.shutdown() }
        // The transport runs on the default group's loop: stop it before that loop.
        transportBox.withLockedValue { $0 }?.shutdown()
        defaultGroup.driver.shutdown()
        for group in keyspaces { closeEngine(of: group) }
    }

    /// The group of keyspace `name` on this node; nil when this node is not a member (or the
    /// keyspace does not exist).
    public func group(named name: String) -> Group? {
        if name == KeyspaceDefinition.defaultName { return defaultGroup }
        return groups.withLockedValue { $0[KeyspaceDefinition.groupID(named: name)] }
    }

    /// The leaderless keyspace `name` on this node; nil when it is not one or this node is
    /// not one of its nodes.
    func leaderlessHost(named name: String) -> LeaderlessHost? {
        leaderlessHosts.withLockedValue { $0[KeyspaceDefinition.groupID(named: name)] }
    }

    /// Every keyspace group running on this node, by name.
    public var keyspaceGroups: [Group] {
        groups.withLockedValue { $0.values.sorted { $0.keyspace < $1.keyspace } }
    }

    /// The keyspaces the cluster has defined, as this node has applied them.
    public var catalog: KeyspaceCatalog {
        defaultGroup.driver.catalogBox.withLockedValue { $0 }
    }

    /// Runs a client's command in `keyspace`, which this node does not replicate, on one of its
    /// members (as the catalog names them when it is sent). `completion` gets the reply and
    /// the session's new token, on the raft loop. Any thread.
    public func proxy(
        _ arguments: [[UInt8]], to keyspace: String, isWrite: Bool, token: UInt64,
        ackMode: AckMode, consistency: ReadConsistency,
        completion: @escaping @Sendable (RESPValue, UInt64) -> Void
    ) {
        submitToShell(completion) { shell, request, now in
            shell.proxy(
                request, arguments: arguments, keyspace: keyspace, isWrite: isWrite,
                token: token, ackMode: ackMode, consistency: consistency, now: now)
        }
    }

    /// Continues a default-keyspace SCAN on `issuer`, the node that gave out its cursor (see
    /// ``NodeShell/proxyDefaultScan(_:arguments:issuer:token:consistency:now:)``). Any thread.
    public func proxyDefaultScan(
        _ arguments: [[UInt8]], issuer: String, token: UInt64, consistency: ReadConsistency,
        completion: @escaping @Sendable (RESPValue, UInt64) -> Void
    ) {
        submitToShell(completion) { shell, request, now in
            shell.proxyDefaultScan(
                request, arguments: arguments, issuer: issuer, token: token,
                consistency: consistency, now: now)
        }
    }

    /// Registers `completion` for a new request and hands it to the shell on its loop, or
    /// answers at once when the node is stopping.
    private func submitToShell(
        _ completion: @escaping @Sendable (RESPValue, UInt64) -> Void,
        _ input: @escaping @Sendable (inout NodeShell, RequestID, GroupTime) -> Void
    ) {
        let accepted = defaultGroup.driver.execute { [self] in
            guard !shellHost.isStopped else {
                return completion(.error("TRYAGAIN the node is stopping"), 0)
            }
            let request = shellHost.register(completion)
            withShell { input(&$0, request, ReplicationDriver.now()) }
        }
        if !accepted { completion(.error("TRYAGAIN the node is stopping"), 0) }
    }

    /// The default group's members that hold data, by name (the command line's and those
    /// added online), this node included.
    var defaultDataMembers: [String] {
        let driver = defaultGroup.driver
        var names = Set(configuration.peers.map(\.name))
        names.formUnion(driver.knownPeerNames)
        return names.sorted()
    }

    func driver(for group: UInt64) -> ReplicationDriver? {
        if group == 0 { return defaultGroup.driver }
        return groups.withLockedValue { $0[group]?.driver }
    }

    /// The directory of keyspace `name`'s engine and Raft log.
    func directory(of name: String) -> String {
        configuration.dataDirectory + "/keyspaces/" + name
    }

    func closeEngine(of group: Group) {
        do {
            try group.executor.engine.close()
        } catch {
            logger.error(
                "closing a keyspace's storage failed",
                metadata: ["keyspace": "\(group.keyspace)", "error": "\(error)"])
        }
    }
}

/// The node's shell and the completions of the requests it holds. Touched only on the default
/// group's raft loop (and by `start()` before anything else runs there).
final class ShellHost: @unchecked Sendable {
    var shell: NodeShell
    var completions: [RequestID: @Sendable (RESPValue, UInt64) -> Void] = [:]
    var nextRequest: UInt64 = 1
    var timer: RepeatedTask?
    /// Set at shutdown: later requests are refused.
    var isStopped = false

    init(shell: NodeShell) { self.shell = shell }

    /// Remembers a completion under a new request id.
    func register(_ completion: @escaping @Sendable (RESPValue, UInt64) -> Void) -> RequestID {
        let id = RequestID(nextRequest)
        nextRequest += 1
        completions[id] = completion
        return id
    }
}
