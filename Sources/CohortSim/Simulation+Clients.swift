import CohortCheck
import CohortCore
import CohortRaft

/// Simulated clients: random reads, writes and compare-and-sets on a few keys, recorded into
/// a `History` for the linearizability checker.
extension Simulation {
    /// Sends client `client`'s next request, if clients are still active.
    func issue(_ client: Int) {
        guard clientsActive, clients[client].outstanding == nil else { return }
        let key = random.integer(in: 0...(parameters.keyCount - 1))
        let choice = random.below(100)
        let command: KeyValueCommand
        let kind: OperationKind
        if choice < 40 {
            command = .read(key: key)
            kind = .read
        } else if choice < 75 {
            let value = nextValue(client)
            command = .set(key: key, value: value)
            kind = .write(Self.valueBytes(value))
        } else {
            let expected = random.chance(0.2) ? nil : lastValue(key: key, seenBy: client)
            let value = nextValue(client)
            command = .compareAndSet(key: key, expected: expected, new: value)
            kind = .compareAndSet(
                expected: expected.map(Self.valueBytes), new: Self.valueBytes(value))
        }
        clients[client].sequence += 1
        let sequence = clients[client].sequence
        let request = KeyValueRequest(
            clientID: clients[client].clientID, sequence: sequence, command: command)
        let operation = history.invoke(
            process: clients[client].process, key: Self.keyBytes(key), kind: kind)
        clients[client].outstanding = SimulatedClient.Outstanding(
            request: request, operation: operation, redirects: 0, invokedMicros: nowMicros)
        hasher.combine(client)
        hasher.combine(sequence)
        sendRequest(client)
        schedule(
            .clientTimeout(client: client, sequence: sequence),
            afterMicros: ticks(parameters.clientTimeoutTicks))
    }

    /// The history's bytes for key `key`.
    static func keyBytes(_ key: Int) -> [UInt8] { Array("k\(key)".utf8) }

    /// The history's bytes for value `value`.
    static func valueBytes(_ value: Int) -> [UInt8] { Array("\(value)".utf8) }

    private func nextValue(_ client: Int) -> Int {
        clients[client].valuesWritten += 1
        return (client + 1) * 1_000_000 + clients[client].valuesWritten
    }

    /// The value the client last saw for `key` (read or written), as a plausible
    /// compare-and-set expectation.
    private func lastValue(key: Int, seenBy client: Int) -> Int? {
        clients[client].lastSeen[key] ?? nil
    }

    /// Sends the outstanding request to the client's current target over the network.
    func sendRequest(_ client: Int) {
        guard let outstanding = clients[client].outstanding else { return }
        let target = clients[client].target
        // Client links lose and delay messages but never duplicate them: a duplicated request
        // that the leader refuses the second time would report a write both refused and done.
        guard let delay = clientLinkDelay() else { return }
        schedule(
            .clientRequest(
                node: target, ClientRequest(client: client, request: outstanding.request)),
            afterMicros: delay)
    }

    private func clientLinkDelay() -> UInt64? {
        let conditions = network.conditions
        if random.chance(conditions.dropProbability) { return nil }
        return random.integer(in: conditions.delayMicrosMin...conditions.delayMicrosMax)
    }

    /// A node sends `reply` to a client.
    func reply(from node: NodeID, to client: Int, sequence: UInt64, _ reply: ClientReply) {
        guard let delay = clientLinkDelay() else { return }
        schedule(.clientReply(client: client, sequence: sequence, reply), afterMicros: delay)
    }

    func handleClientRequest(_ index: Int, _ message: ClientRequest) {
        hasher.combine(index)
        hasher.combine(message.request.sequence)
        guard nodes[index].isUp else { return }
        let id = nodes[index].id
        let request = message.request
        if case .read(let key) = request.command, parameters.readsUseReadIndex {
            let requestID = nodes[index].nextReadRequestID
            nodes[index].nextReadRequestID += 1
            switch nodes[index].raft!.readIndex(requestID: requestID) {
            case .accepted, .forwarded:
                if nodes[index].readRequests.count >= Self.readRequestsPendingMax {
                    let oldest = nodes[index].readRequests.keys.min()!
                    nodes[index].readRequests[oldest] = nil
                }
                nodes[index].readRequests[requestID] = SimulatedNode.PendingRead(
                    client: message.client, sequence: request.sequence, key: key, index: nil)
            case .notLeader(let leader):
                reply(
                    from: id, to: message.client, sequence: request.sequence,
                    .redirect(leader: leader))
            case .rejected:
                reply(from: id, to: message.client, sequence: request.sequence, .refused)
            }
        } else {
            switch nodes[index].raft!.propose(request.encoded()) {
            case .appended(let logIndex, let term):
                nodes[index].proposals[logIndex] = SimulatedNode.PendingProposal(
                    term: term, client: message.client, sequence: request.sequence)
            case .notLeader(let leader):
                reply(
                    from: id, to: message.client, sequence: request.sequence,
                    .redirect(leader: leader))
            case .rejected:
                reply(from: id, to: message.client, sequence: request.sequence, .refused)
            }
        }
        drive(index)
        afterEvent(index)
    }

    func handleClientReply(_ client: Int, sequence: UInt64, _ reply: ClientReply) {
        hasher.combine(client)
        hasher.combine(sequence)
        guard let outstanding = clients[client].outstanding,
            outstanding.request.sequence == sequence
        else { return }
        switch reply {
        case .response(let response):
            complete(client, response: response)
        case .redirect(let leader):
            clients[client].outstanding!.redirects += 1
            if let leader, outstanding.redirects < Self.redirectsMax {
                clients[client].target = Int(leader.rawValue) - 1
                sendRequest(client)
            } else {
                // No leader known (an election is running): wait a little, then try a random
                // member. The timeout still bounds the whole request.
                clients[client].target = randomMember()
                clients[client].outstanding!.redirects = 0
                let backoff = ticks(random.integer(in: 1...parameters.electionTimeoutTicksMin))
                schedule(.clientResend(client: client, sequence: sequence), afterMicros: backoff)
            }
        case .refused:
            history.complete(outstanding.operation, .fail)
            finishOperation(client)
        }
    }

    func handleClientResend(_ client: Int, sequence: UInt64) {
        guard clients[client].outstanding?.request.sequence == sequence else { return }
        sendRequest(client)
    }

    private func complete(_ client: Int, response: KeyValueResponse) {
        guard let outstanding = clients[client].outstanding else { return }
        let request = outstanding.request
        switch (request.command, response) {
        case (.read(let key), .value(let value)):
            history.complete(outstanding.operation, .ok(value.map(Self.valueBytes)))
            clients[client].lastSeen[key] = .some(value)
            operationsSucceeded += 1
        case (.set(let key, let value), .written):
            history.complete(outstanding.operation, .ok(nil))
            clients[client].lastSeen[key] = .some(value)
            acknowledge(request, outstanding: outstanding)
        case (.compareAndSet(let key, _, let new), .compareAndSet(let succeeded)):
            if succeeded {
                history.complete(outstanding.operation, .ok(nil))
                clients[client].lastSeen[key] = .some(new)
                acknowledge(request, outstanding: outstanding)
            } else {
                history.complete(outstanding.operation, .fail)
            }
        default:
            record(.stateMachine, "response \(response) does not answer \(request.command)")
            history.complete(outstanding.operation, .info)
        }
        finishOperation(client)
    }

    private func acknowledge(_ request: KeyValueRequest, outstanding: SimulatedClient.Outstanding) {
        operationsSucceeded += 1
        acknowledgedWrites.append(
            (
                KeyValueStateMachine.writeIdentity(
                    client: request.clientID, sequence: request.sequence),
                "client \(request.clientID) request \(request.sequence) \(request.command)"
            ))
        crashPointAfterAcknowledgement()
        if let start = livenessStartMicros, outstanding.invokedMicros >= start, !livenessReached {
            livenessReached = true
            schedule(.stopClients, afterMicros: ticks(50))
        }
    }

    func handleClientTimeout(_ client: Int, sequence: UInt64) {
        guard let outstanding = clients[client].outstanding,
            outstanding.request.sequence == sequence
        else { return }
        history.complete(outstanding.operation, .info)
        operationsIndeterminate += 1
        // The request may still take effect: continue as a new process (Jepsen's rule).
        clients[client].process = newProcess()
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
