import CohortCore
import CohortReplication

/// A simulated client: one operation at a time, each on a node it picks at random (any node
/// coordinates in a leaderless keyspace).
struct LeaderlessSimClient {
    var operation: ClientOperation?
    var operationsStarted = 0
}

/// A client's operation in flight.
struct ClientOperation {
    enum Kind {
        /// Read the key, then write a new value (or delete) with the context read.
        case readThenWrite(delete: Bool)
        /// Write without reading: a context of nothing, so concurrent with everything.
        case blindWrite
        /// Only read.
        case read
    }

    var number: Int
    var kind: Kind
    var key: [UInt8]
    var node: Int
    var request: RequestID
    var startMillis: UInt64
    /// Index in the run's write records once the write is submitted.
    var writeRecord: Int?
    /// What the read half of a read-then-write returned.
    var readState: SiblingSet?
}

/// A write as the clients saw it.
struct LeaderlessWriteRecord {
    enum Outcome {
        /// No answer (a timeout, or the coordinator crashed): it may or may not be present.
        case unknown
        case acknowledged(Dot, atMillis: UInt64)
        case failed
    }

    var key: [UInt8]
    /// The value (unique per write), or nil for a delete.
    var value: [UInt8]?
    var context: VersionVector
    var submitMillis: UInt64
    var outcome: Outcome = .unknown
}

/// A read as the client saw it.
struct LeaderlessReadRecord {
    var key: [UInt8]
    var startMillis: UInt64
    var endMillis: UInt64
    var state: SiblingSet
}

extension LeaderlessSimulation {
    func clientStep(_ client: Int) {
        guard faultsActive, clients[client].operation == nil else { return }
        let upNodes = nodes.indices.filter { nodes[$0].group != nil }
        guard !upNodes.isEmpty else {
            queue.schedule(.clientStep(client: client), atMicros: nowMillis + 20)
            return
        }
        let number = clients[client].operationsStarted
        clients[client].operationsStarted += 1
        let roll = random.integer(in: 0...99)
        let kind: ClientOperation.Kind =
            roll < 40
            ? .readThenWrite(delete: false)
            : roll < 50 ? .readThenWrite(delete: true) : roll < 70 ? .blindWrite : .read
        let key = random.element(of: keys)
        let node = random.element(of: upNodes)
        var operation = ClientOperation(
            number: number, kind: kind, key: key, node: node, request: newRequest(client, number),
            startMillis: nowMillis)
        switch kind {
        case .blindWrite:
            clients[client].operation = operation
            submitWrite(client, &operation, value: uniqueValue(client, number), context: .empty)
            clients[client].operation = operation
        case .read, .readThenWrite:
            clients[client].operation = operation
            let now = time(of: node)
            nodes[node].group!.submitRead(operation.request, key: key, now: now)
        }
        queue.schedule(
            .clientTimeout(client: client, operation: number),
            atMicros: nowMillis + Self.clientTimeoutMillis)
        runActions(of: node)
    }

    private func newRequest(_ client: Int, _ number: Int) -> RequestID {
        let request = RequestID(nextRequest)
        nextRequest += 1
        requestOwners[request] = (client, number)
        return request
    }

    private func uniqueValue(_ client: Int, _ number: Int) -> [UInt8] {
        Array("c\(client)-\(number)".utf8)
    }

    private func submitWrite(
        _ client: Int, _ operation: inout ClientOperation, value: [UInt8]?,
        context: VersionVector
    ) {
        operation.writeRecord = writes.count
        writes.append(
            LeaderlessWriteRecord(
                key: operation.key, value: value, context: context, submitMillis: nowMillis))
        let node = operation.node
        guard nodes[node].group != nil else { return }  // the client's node crashed: no answer
        let now = time(of: node)
        nodes[node].group!.submitWrite(
            operation.request, key: operation.key, value: value, context: context, now: now)
    }

    func clientTimedOut(_ client: Int, operation number: Int) {
        guard let operation = clients[client].operation, operation.number == number else { return }
        requestOwners[operation.request] = nil
        finish(client)
    }

    private func finish(_ client: Int) {
        clients[client].operation = nil
        queue.schedule(
            .clientStep(client: client), atMicros: nowMillis + UInt64(random.integer(in: 0...20)))
    }

    func writeAnswered(_ request: RequestID, _ outcome: LeaderlessWriteResult) {
        guard let owner = requestOwners.removeValue(forKey: request),
            let operation = clients[owner.client].operation, operation.number == owner.operation,
            let record = operation.writeRecord
        else { return }
        switch outcome {
        case .written(let dot, _):
            writes[record].outcome = .acknowledged(dot, atMillis: nowMillis)
            result.writesAcknowledged += 1
            checkDurableCopies(of: dot, key: operation.key)
        case .failed:
            writes[record].outcome = .failed
            result.writesFailed += 1
        }
        finish(owner.client)
    }

    func readAnswered(_ request: RequestID, _ outcome: LeaderlessReadResult) {
        guard let owner = requestOwners.removeValue(forKey: request),
            var operation = clients[owner.client].operation, operation.number == owner.operation
        else { return }
        guard case .found(let state, _) = outcome else {
            result.readsFailed += 1
            finish(owner.client)
            return
        }
        state.checkInvariants()
        result.readsAnswered += 1
        if state.siblings.count > 1 { result.readsWithSiblings += 1 }
        reads.append(
            LeaderlessReadRecord(
                key: operation.key, startMillis: operation.startMillis, endMillis: nowMillis,
                state: state))
        guard case .readThenWrite = operation.kind else {
            finish(owner.client)
            return
        }
        // The write goes in as its own event: this runs inside the node's actions, which must
        // finish in order before the node takes another input.
        operation.readState = state
        clients[owner.client].operation = operation
        queue.schedule(
            .clientWrite(client: owner.client, operation: operation.number), atMicros: nowMillis)
    }

    /// The write half of a read-then-write, with the context its read returned.
    func clientWrite(_ client: Int, operation number: Int) {
        guard var operation = clients[client].operation, operation.number == number,
            case .readThenWrite(let delete) = operation.kind, let state = operation.readState
        else { return }
        operation.request = newRequest(client, number)
        let value = delete ? nil : uniqueValue(client, number)
        submitWrite(client, &operation, value: value, context: state.context)
        clients[client].operation = operation
        runActions(of: operation.node)
    }
}
