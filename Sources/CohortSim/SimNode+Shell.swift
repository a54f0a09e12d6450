import CohortCore
import CohortNode
import CohortRaft
import CohortReplication
import CohortStorage

/// The simulated host of the node's ``NodeShell``: it carries out the shell's actions as
/// `ClusterNode` does in production (keyspace groups opened over the node's simulated disk,
/// closed after a delay, proxy frames on the simulated network, proxied commands served on a
/// local group).
extension SimNode {
    /// The directory of keyspace `name`'s engine and Raft log (as production lays it out).
    static func directory(ofKeyspace name: String) -> String {
        dataDirectory + "/keyspaces/" + name
    }

    /// Runs `input` on the shell, then every action it produced (nothing while down).
    func withShell(_ input: (inout NodeShell) -> Void) {
        guard shell != nil else { return }
        input(&shell!)
        while let actions = shell?.drain(), !actions.isEmpty {
            for action in actions { run(action) }
        }
    }

    /// Proxies a client's command for `keyspace` through the shell; `completion` gets the
    /// reply and the session's new token.
    func proxy(
        _ arguments: [[UInt8]], keyspace: String, isWrite: Bool, token: UInt64,
        ackMode: AckMode, consistency: ReadConsistency,
        completion: @escaping (RESPValue, UInt64) -> Void
    ) {
        let request = RequestID(nextProxyRequest)
        nextProxyRequest += 1
        proxyCompletions[request] = completion
        let time = now()
        withShell {
            $0.proxy(
                request, arguments: arguments, keyspace: keyspace, isWrite: isWrite,
                token: token, ackMode: ackMode, consistency: consistency, now: time)
        }
    }

    private func run(_ action: NodeShellAction) {
        switch action {
        case .openGroup(let definition):
            if !openKeyspace(definition) {
                shell?.groupOpenFailed(GroupID(definition.groupID))
            }
        case .sweepGroup(let definition):
            guard let settings else { return }
            do {
                try LeaderGroupRuntime.recordOrphanedEntries(
                    directory: Self.directory(ofKeyspace: definition.name),
                    logOptions: settings.log,
                    rollback: world.rollback(of: index), nowMillis: now().wallMillis)
            } catch {
                world.keyspaceOpenFailed(node: index, keyspace: definition.name, error: error)
            }
        case .updateGroup(let definition):
            guard let group = keyspaceGroups[GroupID(definition.groupID)] else { return }
            group.runtime.updateKeyspace(definition)
            group.runtime.pump()
        case .closeGroup(let id, _):
            closeKeyspace(id)
        case .sendForward(let bytes, let peer, let group):
            forward(bytes, to: peer, group: group)
        case .serveProxied(let command):
            world.serveProxied(command, on: index)
        case .complete(let request, let reply, let token):
            proxyCompletions.removeValue(forKey: request)?(reply, token)
        case .log(_, let message, _):
            if world.options.traceLinesMax > 0 { world.trace("\(name) shell: \(message)") }
        }
    }

    /// Opens keyspace `definition`'s engine and Raft log on this node's disk and starts its
    /// group; false when the disk refused (the shell then forgets the group).
    private func openKeyspace(_ definition: KeyspaceDefinition) -> Bool {
        guard let settings else { return false }
        let directory = Self.directory(ofKeyspace: definition.name)
        let id = GroupID(definition.groupID)
        let nowMillis = now().wallMillis
        var engine: StorageEngine?
        do {
            let opened = try StorageEngine.open(
                directory: directory, options: settings.storage, nowMillis: nowMillis)
            engine = opened
            var configuration = settings.server
            configuration.dataDirectory = directory
            configuration.ackMode = definition.ackMode
            let executor = CommandExecutor(
                engine: opened, configuration: configuration, statistics: ServerStatistics(),
                startedAtMillis: nowMillis)
            let store = try RaftLogStore.open(
                directory: directory + "/raft", options: settings.log)
            let durable = store.durableState
            let engineApplied = try LeaderGroupRuntime.restoreEngine(
                opened, from: store, nowMillis: nowMillis, directory: store.directory)
            var groupConfiguration = LeaderGroupConfiguration(
                groupID: id, keyspace: definition.name, nodeName: name,
                founders: settings.founders, joins: joins, definition: definition,
                raft: settings.raft, writeTimeoutMillis: settings.parameters.writeTimeoutMillis,
                readTimeoutMillis: settings.parameters.readTimeoutMillis,
                snapshotEntries: settings.parameters.snapshotEntries,
                defaultAckMode: definition.ackMode)
            groupConfiguration.faults = settings.faults
            let group = LeaderGroup(
                configuration: groupConfiguration, evaluator: executor, durable: durable,
                engineApplied: engineApplied, catalog: KeyspaceCatalog(), knownPeers: [:],
                randomSeed: world.random.next(), now: now())
            let runtime = LeaderGroupRuntime(
                group: group, store: store, engine: opened, rollback: world.rollback(of: index),
                dataDirectory: directory, environment: self)
            let life = incarnation
            runtime.onLeftGroup = { [unowned self] in
                // Later, not from inside the group's own actions.
                world.schedule(
                    .shellInput(node: index, incarnation: life, .groupLeft(id)), afterMicros: 0)
            }
            runtime.onLog = { [unowned self] level, message, _ in
                if level == .critical { world.nodeStopped(index, "\(definition.name): \(message)") }
            }
            if world.options.traceLinesMax > 0 {
                world.trace("\(name) opens keyspace \(definition.summary) v\(definition.version)")
            }
            if closedKeyspaces.remove(id) != nil { world.keyspaceReopens += 1 }
            keyspaceGroups[id] = SimKeyspaceGroup(
                name: definition.name, runtime: runtime, executor: executor)
            runtime.pump()
            return true
        } catch {
            try? engine?.close()
            world.keyspaceOpenFailed(node: index, keyspace: definition.name, error: error)
            return false
        }
    }

    /// Stops a keyspace group and closes its engine; the shell hears that the close finished
    /// only some ticks later, as a real close takes time (a definition naming this node again
    /// meanwhile must wait for it).
    private func closeKeyspace(_ id: GroupID) {
        closedKeyspaces.insert(id)
        if let group = keyspaceGroups.removeValue(forKey: id) {
            group.runtime.shutDown()
            try? group.executor.engine.close()
        }
        world.schedule(
            .shellInput(node: index, incarnation: incarnation, .groupClosed(id)),
            afterMicros: world.ticks(world.random.integer(in: 1...10)))
    }
}
