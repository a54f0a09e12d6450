import CohortCore
import CohortNode
import CohortReplication
import CohortStorage
import Dispatch
import Logging

/// Carrying out the ``NodeShell``'s actions with the real world: engines and drivers opened
/// and closed, frames on the peer transport, proxied commands run on a local group.
extension ClusterNode {
    /// Runs `input` on the shell, then every action it produced. On the default group's raft
    /// loop (or in `start()` before anything runs there).
    func withShell(_ input: (inout NodeShell) -> Void) {
        input(&shellHost.shell)
        while true {
            let actions = shellHost.shell.drain()
            guard !actions.isEmpty else { return }
            for action in actions { run(action) }
        }
    }

    private func run(_ action: NodeShellAction) {
        switch action {
        case .openGroup(let definition):
            if !open(definition) {
                shellHost.shell.groupOpenFailed(GroupID(definition.groupID))
            }
        case .sweepGroup(let definition):
            sweep(definition)
        case .updateGroup(let definition):
            groups.withLockedValue { $0[definition.groupID] }?.driver.updateKeyspace(definition)
        case .closeGroup(let id, let name):
            close(id, name: name)
        case .sendForward(let bytes, let peer, let group):
            transportBox.withLockedValue { $0 }?.sendForward(bytes, to: peer, group: group.rawValue)
        case .serveProxied(let command):
            serve(command)
        case .complete(let request, let reply, let token):
            shellHost.completions.removeValue(forKey: request)?(reply, token)
        case .log(let level, let message, let fields):
            logger.log(level, message, fields: fields, base: ["node": "\(configuration.nodeName)"])
        }
    }

    /// Opens and starts keyspace `definition`'s group; false (logged) when it cannot.
    private func open(_ definition: KeyspaceDefinition) -> Bool {
        guard let transport = transportBox.withLockedValue({ $0 }) else { return false }
        if definition.strategy.leaderless != nil {
            return openLeaderless(definition, transport: transport)
        }
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
            return false
        }
        // Attached before it is registered: from then on the transport delivers to it.
        group.driver.attach(transport: transport)
        groups.withLockedValue { $0[definition.groupID] = group }
        let id = GroupID(definition.groupID)
        let defaultDriver = defaultGroup.driver
        group.driver.onLeftKeyspace = { [self] in
            // On the keyspace's own loop: the shell lives on the default group's.
            defaultDriver.execute { [self] in withShell { $0.groupLeft(id) } }
        }
        group.driver.start()
        logger.info(
            "keyspace group started",
            metadata: [
                "keyspace": "\(definition.name)", "dir": "\(directory(of: definition.name))",
            ])
        return true
    }

    /// Opens a leaderless keyspace over its own engine, on the default group's raft loop.
    private func openLeaderless(_ definition: KeyspaceDefinition, transport: PeerTransport) -> Bool
    {
        var keyspaceConfiguration = configuration
        keyspaceConfiguration.dataDirectory = directory(of: definition.name)
        do {
            let engine = try makeExecutor(keyspaceConfiguration).engine
            let host = try LeaderlessHost.open(
                definition: definition, nodeName: configuration.nodeName, engine: engine,
                loop: defaultGroup.driver.loop, transport: transport, logger: logger)
            leaderlessHosts.withLockedValue { $0[definition.groupID] = host }
        } catch {
            logger.critical(
                "cannot start leaderless keyspace",
                metadata: ["keyspace": "\(definition.name)", "error": "\(error)"])
            return false
        }
        logger.info(
            "leaderless keyspace started",
            metadata: [
                "keyspace": "\(definition.name)", "dir": "\(directory(of: definition.name))",
                "settings": "\(definition.strategy.leaderless!.summary)",
            ])
        return true
    }

    /// Records what a keyspace's leftover log holds beyond what this node knew committed (see
    /// ``NodeShellAction/sweepGroup(_:)``), in the keyspace's own rollback log.
    private func sweep(_ definition: KeyspaceDefinition) {
        let directory = directory(of: definition.name)
        do {
            let rollback = try RollbackLog(path: directory + "/rollback.log")
            let recorded = try LeaderGroupRuntime.recordOrphanedEntries(
                directory: directory, logOptions: RaftLogStoreOptions.cluster(for: configuration),
                rollback: rollback, nowMillis: WallClock.nowMillis())
            if recorded > 0 {
                logger.warning(
                    "this node left a keyspace while holding uncommitted writes, which the group may or may not hold; recorded in rollback.log",
                    metadata: ["keyspace": "\(definition.name)", "entries": "\(recorded)"])
            }
        } catch {
            logger.error(
                "cannot read a former keyspace's log",
                metadata: ["keyspace": "\(definition.name)", "error": "\(error)"])
        }
    }

    /// Stops a keyspace group this node no longer replicates, off the raft loop (stopping
    /// blocks until the group's own loop has finished), then tells the shell, which may open
    /// it again: never two instances over one directory.
    private func close(_ id: GroupID, name: String) {
        if let host = leaderlessHosts.withLockedValue({ $0.removeValue(forKey: id.rawValue) }) {
            let defaultDriver = defaultGroup.driver
            DispatchQueue.global().async { [self] in
                host.shutdown()
                defaultDriver.execute { [self] in withShell { $0.groupClosed(id) } }
            }
            return
        }
        guard let group = groups.withLockedValue({ $0.removeValue(forKey: id.rawValue) }) else {
            withShell { $0.groupClosed(id) }
            return
        }
        let logger = logger
        let defaultDriver = defaultGroup.driver
        DispatchQueue.global().async { [self] in
            group.driver.shutdown()
            closeEngine(of: group)
            logger.info(
                "keyspace group stopped: this node no longer replicates it",
                metadata: ["keyspace": "\(name)"])
            defaultDriver.execute { [self] in withShell { $0.groupClosed(id) } }
        }
    }

    /// Runs a command another node proxied here, as a client of this node in its group would,
    /// and sends the answer back.
    private func serve(_ command: ProxiedCommand) {
        let transport = transportBox.withLockedValue { $0 }
        let respond: @Sendable (RESPValue, UInt64) -> Void = { reply, token in
            transport?.sendForward(
                NodeShell.proxyAnswer(to: command, reply: reply, token: token),
                to: command.peer, group: command.group.rawValue)
        }
        guard
            let group = command.group.isDefault
                ? defaultGroup : groups.withLockedValue({ $0[command.group.rawValue] })
        else {
            return respond(NodeShell.groupNotHere, 0)
        }
        command.serve(
            on: group.executor, nowMillis: { WallClock.nowMillis() },
            submitWrite: { completion in
                group.driver.submitWrite(
                    command.arguments, token: command.token, ackMode: command.ackMode,
                    completion: completion)
            },
            submitRead: { completion in
                group.driver.submitRead(
                    consistency: command.consistency, token: command.token, completion: completion)
            }, respond: respond)
    }
}
