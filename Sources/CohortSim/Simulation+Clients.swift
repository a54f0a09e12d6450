import CohortCheck
import CohortCore
import CohortNode
import CohortReplication

/// Simulated Redis clients: SET and GET on a few keys, sent as RESP to the production node's
/// command layer, recorded into a `History` (writes, linearizable reads) or as session and
/// bounded-staleness reads for their own checks.
extension Simulation {
    /// A key of the workload in the default keyspace.
    static func keyBytes(_ key: Int) -> [UInt8] { Array("k\(key)".utf8) }

    /// A key of the workload in `keyspace` (nil: default). Keys of different keyspaces are
    /// different registers: their names differ, so the history keeps them apart.
    static func keyBytes(_ key: Int, keyspace: String?) -> [UInt8] {
        guard let keyspace else { return keyBytes(key) }
        return Array("\(keyspace):k\(key)".utf8)
    }

    /// Sends client `client`'s next request, if clients are still active.
    func issue(_ client: Int) {
        guard clientsActive, clients[client].outstanding == nil else { return }
        if clients[client].keyspace != nil && !keyspaceCreated {
            // Its keyspace does not exist yet: look again later.
            return schedule(.clientIssue(client: client), afterMicros: ticks(10))
        }
        let key = Self.keyBytes(
            random.integer(in: 0...(parameters.keyCount - 1)), keyspace: clients[client].keyspace)
        let request: SimulatedClient.Request
        if clients[client].readsStaleOnly {
            request = .read(
                key: key, consistency: .boundedStaleness(millis: parameters.staleBoundMillis))
        } else if random.below(100) < 45 {
            clients[client].valuesWritten += 1
            let value = Array("\(client + 1)-\(clients[client].valuesWritten)".utf8)
            request = .write(key: key, value: value)
        } else {
            let roll = random.integer(in: 0...99)
            if roll < parameters.sessionReadPercent {
                request = .read(key: key, consistency: .session)
            } else if roll < parameters.sessionReadPercent + parameters.staleReadPercent {
                request = .read(
                    key: key, consistency: .boundedStaleness(millis: parameters.staleBoundMillis))
            } else {
                request = .read(key: key, consistency: .linearizable)
            }
        }
        clients[client].sequence += 1
        let sequence = clients[client].sequence
        var operation: OperationID?
        let arguments: [[UInt8]]
        switch request {
        case .write(let key, let value):
            operation = history.invoke(
                process: clients[client].process, key: key, kind: .write(value))
            arguments = [Array("SET".utf8), key, value]
        case .read(let key, let consistency):
            if consistency == .linearizable {
                operation = history.invoke(process: clients[client].process, key: key, kind: .read)
            }
            arguments = [Array("GET".utf8), key]
        }
        clients[client].outstanding = SimulatedClient.Outstanding(
            request: request, sequence: sequence, operation: operation, invokedMicros: nowMicros)
        hasher.combine(client)
        hasher.combine(sequence)
        var bytes: [UInt8] = []
        RESPValue.array(arguments.map(RESPValue.bulkString)).encode(into: &bytes, version: .resp2)
        if let delay = clientLinkDelay() {
            schedule(
                .clientRequest(
                    node: clients[client].target, client: client, sequence: sequence, bytes),
                afterMicros: delay)
        }
        schedule(
            .clientTimeout(client: client, sequence: sequence),
            afterMicros: ticks(parameters.clientTimeoutTicks))
    }

    /// Client links lose and delay messages but never duplicate them: a duplicated request
    /// would be a second command, which a real client never sends.
    private func clientLinkDelay() -> UInt64? {
        let conditions = network.conditions
        if random.chance(conditions.dropProbability) { return nil }
        return random.integer(in: conditions.delayMicrosMin...conditions.delayMicrosMax)
    }

    /// A node runs a client's RESP request the way a connection of the NIO server does: the
    /// command is classified, writes go to the group, reads wait for their gate and then run
    /// on this node's engine, and the reply goes back encoded.
    func handleClientRequest(_ index: Int, client: Int, sequence: UInt64, _ bytes: [UInt8]) {
        hasher.combine(index)
        hasher.combine(sequence)
        let node = nodes[index]
        guard let defaultRuntime = node.runtime, let defaultExecutor = node.executor,
            let outstanding = clients[client].outstanding, outstanding.sequence == sequence
        else { return }
        var parser = RESPRequestParser()
        guard case .command(let parsed, _) = bytes.withUnsafeBytes({ parser.parse($0) }) else {
            return reply(to: client, sequence: sequence, .error("ERR Protocol error"), token: 0)
        }
        var session =
            node.sessions[client]
            ?? ClientSession(id: UInt64(client + 1), address: "sim", authenticated: true)
        session.token = clients[client].token
        if case .read(_, let consistency) = outstanding.request {
            session.readConsistency = consistency
        }
        node.sessions[client] = session
        let kind = ClusterCommandKind(parsed, executor: defaultExecutor, session: session)
        let arguments = defaultExecutor.submission(of: parsed, kind: kind, session: &session)
        var runtime = defaultRuntime
        var executor = defaultExecutor
        if let keyspace = clients[client].keyspace, kind != .local {
            // As a connection after COHORT USE: a data member serves the keyspace itself; any
            // other node (or a witness, which holds no data) proxies it through its shell.
            let group = node.keyspaceGroups[Self.keyspaceGroupID]
            guard let group, !group.runtime.group.isWitness else {
                node.proxy(
                    arguments, keyspace: keyspace, isWrite: kind != .read, token: session.token,
                    ackMode: parameters.ackMode, consistency: session.readConsistency
                ) { [unowned self] value, token in
                    reply(to: client, sequence: sequence, value, token: token)
                }
                return afterEvent(index)
            }
            runtime = group.runtime
            executor = group.executor
        }
        switch kind {
        case .write, .wait:
            runtime.submitWrite(
                arguments, token: SessionToken(wireValue: session.token),
                ackMode: parameters.ackMode
            ) { [unowned self] value, token in
                reply(to: client, sequence: sequence, value, token: token)
            }
        case .read:
            runtime.submitRead(
                consistency: session.readConsistency,
                token: SessionToken(wireValue: session.token)
            ) { [unowned self] gate in
                switch gate {
                case .proceed(let applied):
                    if options.traceLinesMax > 0 {
                        let raft = runtime.group.raft
                        trace(
                            "\(node.name) serves \(session.readConsistency.name) read for client "
                                + "\(client) in \(runtime.group.configuration.keyspace) at applied "
                                + "\(applied) as \(raft.softState.role) of \(raft.term)")
                    }
                    var running = session
                    let outcome = executor.execute(
                        arguments, session: &running, nowMillis: node.now().wallMillis)
                    reply(to: client, sequence: sequence, outcome.reply, token: applied)
                case .refused(let error):
                    reply(to: client, sequence: sequence, error, token: 0)
                }
            }
        case .local:
            let outcome = executor.execute(
                arguments, session: &session, nowMillis: node.now().wallMillis)
            reply(to: client, sequence: sequence, outcome.reply, token: 0)
        }
        runtime.pump()
        afterEvent(index)
    }

    /// A node sends `value` to a client, RESP-encoded.
    func reply(to client: Int, sequence: UInt64, _ value: RESPValue, token: UInt64) {
        var bytes: [UInt8] = []
        value.encode(into: &bytes, version: .resp2)
        guard let delay = clientLinkDelay() else { return }
        schedule(
            .clientReply(client: client, sequence: sequence, bytes, token: token),
            afterMicros: delay)
    }

    func handleClientReply(_ client: Int, sequence: UInt64, _ bytes: [UInt8], token: UInt64) {
        hasher.combine(client)
        hasher.combine(sequence)
        guard let outstanding = clients[client].outstanding, outstanding.sequence == sequence
        else { return }
        let value = LeaderGroup.decodeReply(bytes)
        if options.traceLinesMax > 0 {
            trace("client \(client) got \(value) token \(token) for \(outstanding.request)")
        }
        clients[client].token = max(clients[client].token, token)
        switch outstanding.request {
        case .write(let key, let written):
            let operation = outstanding.operation!
            let acknowledged: Bool
            switch value {
            case .simpleString("OK"):
                acknowledged = true
            case .error(let message) where message.hasPrefix("NOTREPLICATED"):
                // Committed and applied; only the promise that every voter holds it was not
                // kept in time.
                acknowledged = true
            case .error(let message) where Self.writeWasNotApplied(message):
                acknowledged = false
                history.complete(operation, .fail)
            default:
                acknowledged = false
                history.complete(operation, .info)
                operationsIndeterminate += 1
                clients[client].process = newProcess()
            }
            if acknowledged {
                // A `leader`-mode acknowledgement precedes the commit, so a linearizable read
                // may not see the write yet, and a failover may discard it (into a rollback
                // log): it is no linearization point. Its loss is checked on its own.
                history.complete(operation, parameters.ackMode == .leader ? .info : .ok(nil))
                indexOfValue[written] = token
                ackedWrites.append((client, key, token, nowMicros))
                writesAcknowledged += 1
                if clients[client].keyspace != nil { keyspaceWritesAcknowledged += 1 }
                operationsSucceeded += 1
                if parameters.ackMode == .leader {
                    leaderModeWrites.append((operation, key, written))
                }
                crashPointAfterAcknowledgement()
                if let start = livenessStartMicros, outstanding.invokedMicros >= start,
                    !livenessReached
                {
                    livenessReached = true
                    schedule(.stopClients, afterMicros: ticks(50))
                }
            }
        case .read(let key, let consistency):
            let read: [UInt8]??
            switch value {
            case .bulkString(let bytes): read = .some(bytes)
            case .null: read = .some(nil)
            default: read = nil
            }
            if let operation = outstanding.operation {
                history.complete(operation, read.map { .ok($0) } ?? .fail)
            } else if let read {
                sessionReads.append(
                    SessionRead(
                        client: client, key: key, value: read,
                        invokedMicros: outstanding.invokedMicros, completedMicros: nowMicros,
                        consistency: consistency))
            }
            if read != nil { operationsSucceeded += 1 }
        }
        if case .error = value {
            // Try another node next time (as a client would after an error).
            clients[client].target = randomMember()
        }
        finishOperation(client)
    }

    /// Whether an error reply says the write had no effect (so the history may fail it).
    static func writeWasNotApplied(_ message: String) -> Bool {
        message.contains("was not applied") || message.contains("(limit ")
            || message.contains("refused the write")
    }

    func handleClientTimeout(_ client: Int, sequence: UInt64) {
        guard let outstanding = clients[client].outstanding, outstanding.sequence == sequence
        else { return }
        if let operation = outstanding.operation {
            if case .write = outstanding.request {
                history.complete(operation, .info)
                // The write may still take effect: continue as a new process (Jepsen's rule).
                clients[client].process = newProcess()
            } else {
                // A read has no effect.
                history.complete(operation, .fail)
            }
        }
        operationsIndeterminate += 1
        clients[client].target = randomMember()
        finishOperation(client)
    }

    private func finishOperation(_ client: Int) {
        clients[client].outstanding = nil
        if clientsActive {
            schedule(.clientIssue(client: client), afterMicros: thinkMicros())
        }
    }

    /// A node that is (or is being made) a member.
    func randomMember() -> Int {
        let members = nodes.indices.filter { nodes[$0].isMember }
        return members.isEmpty ? 0 : random.element(of: members)
    }
}
