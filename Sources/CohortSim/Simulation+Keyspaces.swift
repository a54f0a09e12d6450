import CohortCheck
import CohortCore
import CohortNode
import CohortRaft
import CohortReplication

/// The workload's keyspace: created and moved by the operator through the cluster's own
/// commands, replicated by its own groups on some founders, used by its own clients through
/// every node (members serve it, the others proxy it), and checked as the default keyspace is.
extension Simulation {
    /// The workload keyspace's name.
    static let keyspaceName = "ks"

    /// The keyspace's group id.
    static var keyspaceGroupID: GroupID { GroupID(KeyspaceDefinition.groupID(named: keyspaceName)) }

    /// The operator creates the keyspace through any member (the write is forwarded to the
    /// default group's leader); tried again until it is acknowledged.
    func handleCreateKeyspace() {
        guard !keyspaceCreated else { return }
        schedule(.createKeyspace, afterMicros: ticks(random.integer(in: 20...60)))
        let up = nodes.indices.filter { nodes[$0].isMember && nodes[$0].isUp }
        guard !up.isEmpty else { return }
        let index = random.element(of: up)
        guard let runtime = nodes[index].runtime else { return }
        var words = [
            "COHORT", "KEYSPACE", "CREATE", Self.keyspaceName, "VOTERS",
            parameters.keyspaceVoters.map { nodes[$0].name }.joined(separator: ","),
            "ACK", parameters.ackMode.rawValue,
        ]
        if let witness = parameters.keyspaceWitness { words += ["WITNESS", nodes[witness].name] }
        runtime.submitWrite(words.map { Array($0.utf8) }, token: .none, ackMode: .majority) {
            [unowned self] reply, _ in
            if options.traceLinesMax > 0 { trace("create \(Self.keyspaceName): \(reply)") }
            switch reply {
            case .simpleString: keyspaceCreated = true
            case .error(let message) where message.contains("already exists"):
                keyspaceCreated = true
            default: break
            }
            if keyspaceCreated && parameters.keyspaceMembershipChanges
                && keyspaceMoveScheduled == false
            {
                keyspaceMoveScheduled = true
                schedule(.keyspaceMove, afterMicros: ticks(random.integer(in: 30...150)))
            }
        }
        runtime.pump()
        afterEvent(index)
    }

    /// The operator moves the keyspace's members: removes a voter, and later adds it back, so
    /// that a node closes the keyspace's group and opens it again over the same directory.
    func handleKeyspaceMove() {
        guard faultsActive else { return }
        schedule(.keyspaceMove, afterMicros: ticks(random.integer(in: 60...250)))
        guard let leader = leaderIndex(), let runtime = nodes[leader].runtime,
            let definition = runtime.group.catalog.definition(named: Self.keyspaceName)
        else { return }
        let words: [String]
        if let removed = keyspaceRemovedVoter {
            guard !definition.members.contains(nodes[removed].name) else {
                keyspaceRemovedVoter = nil
                return
            }
            words = ["COHORT", "KEYSPACE", "ADD", Self.keyspaceName, nodes[removed].name]
        } else {
            // Keep at least two voters (a majority to elect with).
            guard definition.voters.count >= 3 else { return }
            let victim = random.element(of: definition.voters)
            guard let index = nodes.firstIndex(where: { $0.name == victim }) else { return }
            words = ["COHORT", "KEYSPACE", "REMOVE", Self.keyspaceName, victim]
            keyspaceRemovedVoter = index
        }
        runtime.submitWrite(words.map { Array($0.utf8) }, token: .none, ackMode: .majority) {
            [unowned self] reply, _ in
            if case .simpleString = reply { keyspaceMovesAccepted += 1 }
            if options.traceLinesMax > 0 { trace("\(words[2]) \(words[4]): \(reply)") }
        }
        runtime.pump()
        afterEvent(leader)
    }

    /// A node's shell hears what its host did.
    func handleShellInput(_ index: Int, incarnation: Int, _ input: ShellInput) {
        guard nodes[index].incarnation == incarnation, nodes[index].isUp else { return }
        switch input {
        case .groupLeft(let id):
            hasher.combine(UInt64(1))
            nodes[index].withShell { $0.groupLeft(id) }
        case .groupClosed(let id):
            hasher.combine(UInt64(2))
            nodes[index].withShell { $0.groupClosed(id) }
        }
        afterEvent(index)
    }

    /// A command another node proxied to node `index`: run on its group as that node's own
    /// client's would be (`ClusterNode.serve` in production), and answered.
    func serveProxied(_ command: ProxiedCommand, on index: Int) {
        let node = nodes[index]
        let respond: @Sendable (RESPValue, UInt64) -> Void = { [unowned node] reply, token in
            node.forward(
                NodeShell.proxyAnswer(to: command, reply: reply, token: token), to: command.peer,
                group: command.group)
        }
        guard let group = node.keyspaceGroups[command.group] else {
            return respond(NodeShell.groupNotHere, 0)
        }
        proxiedCommandsServed += 1
        let runtime = group.runtime
        let token = SessionToken(wireValue: command.token)
        command.serve(
            on: group.executor, nowMillis: { [unowned node] in node.now().wallMillis },
            submitWrite: { completion in
                runtime.submitWrite(
                    command.arguments, token: token, ackMode: command.ackMode,
                    completion: completion)
            },
            submitRead: { completion in
                runtime.submitRead(
                    consistency: command.consistency, token: token, completion: completion)
            }, respond: respond)
        runtime.pump()
    }

    /// A node could not open a keyspace's storage: as for the default group's, a finding.
    func keyspaceOpenFailed(node index: Int, keyspace: String, error: any Error) {
        record(.stateMachine, "\(nodes[index].name) cannot open keyspace \(keyspace): \(error)")
    }

    /// The per-event checks of node `index`'s keyspace groups: Raft safety against the
    /// keyspace's own checker, invariants now and then, and committed writes of `leader` mode.
    func afterKeyspaceEvent(_ index: Int) {
        let node = nodes[index]
        for id in node.keyspaceGroups.keys.sorted() {
            guard let group = node.keyspaceGroups[id] else { continue }
            if group.runtime.isStopped {
                crash(index)
                schedule(.restart(node: index), afterMicros: ticks(random.integer(in: 1...20)))
                return
            }
            let raft = group.runtime.group.raft
            if options.traceLinesMax > 0, raft.isLeader, group.ledTerm != raft.term {
                group.ledTerm = raft.term
                trace("\(node.name) leads keyspace \(group.name) in \(raft.term)")
            }
            hasher.combine(raft.term.rawValue)
            hasher.combine(raft.commitIndex.rawValue)
            if parameters.ackMode == .leader {
                noteCommitted(raft: raft, scanned: &group.committedScanned)
            }
            group.eventsHandled += 1
            if options.brokenVariant == nil
                && group.eventsHandled % Self.invariantCheckIntervalEvents == 0
            {
                raft.checkInvariants()
            }
            guard options.checksRaftSafety else { continue }
            let seen = observation(of: group.runtime.group, node: node.id)
            for violation in keyspaceSafety.observe([seen], step: UInt64(eventsProcessed)) {
                record(.raftSafety, "keyspace \(group.name): \(violation.description)")
            }
        }
    }

    /// The keyspace's keys' values on its leader of the highest term, once that leader has
    /// committed an entry of its term and applied all it committed (so every acknowledged write
    /// is in its state); nil otherwise (the history is then checked without final reads).
    func finalKeyspaceValues() -> [(key: [UInt8], value: [UInt8]?)]? {
        var best: (node: SimNode, group: SimKeyspaceGroup)?
        for node in nodes where node.isUp {
            guard let group = node.keyspaceGroups[Self.keyspaceGroupID] else { continue }
            let raft = group.runtime.group.raft
            guard raft.isLeader, !group.runtime.group.isWitness else { continue }
            if best == nil || raft.term > best!.group.runtime.group.raft.term {
                best = (node, group)
            }
        }
        guard let best else { return nil }
        let group = best.group.runtime.group
        guard group.raft.term(at: group.raft.commitIndex) == group.raft.term,
            group.appliedIndex >= group.raft.commitIndex
        else { return nil }
        return (0..<parameters.keyCount).map { key in
            let bytes = Self.keyBytes(key, keyspace: Self.keyspaceName)
            let value = try? best.group.executor.engine.get(
                bytes, nowMillis: best.node.now().wallMillis)
            return (bytes, value?.bytes)
        }
    }
}
