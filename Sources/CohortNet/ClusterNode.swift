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
/// Keyspaces are defined in the default group's log (``KeyspaceDefinition``). When this node
/// applies a definition that names it, it opens the keyspace's own engine and Raft log under
/// `<data-dir>/keyspaces/<name>` and starts its group; after a restart the saved catalog
/// starts them again. Peer messages are routed to groups by the group id on each frame;
/// messages for a group this node has not started yet are dropped (Raft retransmits).
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
    private let configuration: ServerConfiguration
    private let logger: Logger
    private let makeExecutor: @Sendable (ServerConfiguration) throws -> CommandExecutor
    private let transportBox = NIOLockedValueBox<PeerTransport?>(nil)
    /// Proxies commands for keyspaces this node does not replicate (set by ``start()``), and
    /// the timer that expires them.
    private let proxyBox = NIOLockedValueBox<(proxy: KeyspaceProxy, timer: RepeatedTask)?>(nil)
    /// Keyspace groups by group id (a name's id is ``KeyspaceDefinition/groupID(named:)``).
    private let groups = NIOLockedValueBox<[UInt64: Group]>([:])

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
        let transport = PeerTransport(
            // The transport runs on the default group's raft loop: its messages then reach Raft
            // and leave it without a thread hop on either side, which is most of a write's
            // latency on a busy machine. Other keyspaces' groups hop to their own loops.
            configuration: transportConfiguration, group: driver.raftGroup, logger: logger,
            onMessage: { [self] group, message in
                self.driver(for: group)?.run { $0.receive(message) }
            },
            onForward: { [self] peer, group, payload in
                if ForwardMessage.isProxy(payload) {
                    // Delivered on the default group's loop, where the proxy lives.
                    proxyBox.withLockedValue { $0?.proxy }?.receive(
                        payload, group: group, from: peer)
                    return
                }
                self.driver(for: group)?.run { $0.receiveForward(payload, from: peer) }
            })
        driver.attach(transport: transport)
        transportBox.withLockedValue { $0 = transport }
        let proxy = KeyspaceProxy(
            loop: driver.loop, transport: transport, logger: logger,
            timeoutMillis: UInt64(configuration.writeTimeoutMillis) + 2_000,
            localGroup: { [self] id in id == 0 ? nil : groups.withLockedValue { $0[id] } },
            catalog: { [self] in catalog })
        let timer = driver.loop.scheduleRepeatedTask(
            initialDelay: .milliseconds(100), delay: .milliseconds(100)
        ) { _ in proxy.expire(nowMillis: WallClock.nowMillis()) }
        proxyBox.withLockedValue { $0 = (proxy, timer) }
        // Keyspaces known from the saved catalog start here, before any message arrives or
        // the default group ticks: recovering a large keyspace's engine must not stall the
        // default group's loop.
        for definition in catalog.sorted { follow(definition) }
        let port = try transport.start()
        driver.onKeyspaceDefined = { [self] definition in follow(definition) }
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
        proxyBox.withLockedValue { $0 }?.timer.cancel()
        defaultGroup.driver.stop()
        for group in keyspaces { group.driver.shutdown() }
        // The transport runs on the default group's loop: stop it before that loop.
        transportBox.withLockedValue { $0 }?.shutdown()
        defaultGroup.driver.shutdown()
        for group in keyspaces {
            do {
                try group.executor.engine.close()
            } catch {
                logger.error(
                    "closing a keyspace's storage failed",
                    metadata: [
                        "keyspace": "\(group.keyspace)", "error": "\(error)",
                    ])
            }
        }
    }

    /// The group of keyspace `name` on this node; nil when this node is not a member (or the
    /// keyspace does not exist).
    public func group(named name: String) -> Group? {
        if name == KeyspaceDefinition.defaultName { return defaultGroup }
        return groups.withLockedValue { $0[KeyspaceDefinition.groupID(named: name)] }
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
    /// the session's new token. Any thread.
    public func proxy(
        _ arguments: [[UInt8]], to keyspace: String, isWrite: Bool, token: UInt64,
        ackMode: AckMode, consistency: ReadConsistency,
        completion: @escaping @Sendable (RESPValue, UInt64) -> Void
    ) {
        guard let proxy = proxyBox.withLockedValue({ $0?.proxy }) else {
            return completion(.error("TRYAGAIN the node is starting"), 0)
        }
        proxy.send(
            arguments, to: keyspace, isWrite: isWrite, token: token, ackMode: ackMode,
            consistency: consistency, completion: completion)
    }

    private func driver(for group: UInt64) -> ReplicationDriver? {
        if group == 0 { return defaultGroup.driver }
        return groups.withLockedValue { $0[group]?.driver }
    }

    /// Stops a keyspace group this node no longer replicates, off the raft loop (stopping
    /// blocks until the group's own loop has finished).
    private func closeGroup(_ group: Group, name: String) {
        _ = groups.withLockedValue { $0.removeValue(forKey: group.driver.groupID) }
        let logger = logger
        DispatchQueue.global().async {
            group.driver.shutdown()
            do {
                try group.executor.engine.close()
            } catch {
                logger.error(
                    "closing a keyspace's storage failed",
                    metadata: ["keyspace": "\(name)", "error": "\(error)"])
            }
            logger.info(
                "keyspace group stopped: this node no longer replicates it",
                metadata: ["keyspace": "\(name)"])
        }
    }

    /// The directory of keyspace `name`'s engine and Raft log.
    func directory(of name: String) -> String {
        configuration.dataDirectory + "/keyspaces/" + name
    }

    /// Follows a keyspace's (new) definition on this node: starts its group when this node is
    /// a member and it is not running yet, and hands a running group its new members. A node
    /// the definition no longer names keeps its group until it has left it (see
    /// `checkLeftKeyspace`), then stops it (its data stays on disk). Runs on the default
    /// group's raft loop, in log order (and at start for the saved catalog).
    private func follow(_ definition: KeyspaceDefinition) {
        let isMember = definition.members.contains(configuration.nodeName)
        if let running = group(named: definition.name) {
            running.driver.updateKeyspace(definition)
            return
        }
        guard isMember, let transport = transportBox.withLockedValue({ $0 }) else { return }
        var keyspaceConfiguration = configuration
        keyspaceConfiguration.dataDirectory = directory(of: definition.name)
        keyspaceConfiguration.ackMode = definition.ackMode
        let group: Group
        do {
            let executor = try makeExecutor(keyspaceConfiguration)
            let driver = try ReplicationDriver(
                configuration: keyspaceConfiguration, executor: executor,
                logger: logger, keyspace: definition)
            group = Group(executor: executor, driver: driver)
        } catch {
            // The other members go on without this node; an operator sees why here and in
            // the keyspace's status (absent on this node).
            logger.critical(
                "cannot start keyspace group",
                metadata: ["keyspace": "\(definition.name)", "error": "\(error)"])
            return
        }
        // Attached before it is registered: from then on the transport delivers to it.
        group.driver.attach(transport: transport)
        groups.withLockedValue { $0[definition.groupID] = group }
        group.driver.onLeftKeyspace = { [self] in closeGroup(group, name: definition.name) }
        group.driver.start()
        logger.info(
            "keyspace group started",
            metadata: [
                "keyspace": "\(definition.name)", "dir": "\(directory(of: definition.name))",
            ])
    }
}
