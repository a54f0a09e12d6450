import CohortCore
import CohortRaft

@testable import CohortReplication

/// A key-value state machine for group tests: SET, GET and INCR over a dictionary, read
/// through the leader's overlay as the real command layer does.
final class ModelEvaluator: WriteEvaluator, @unchecked Sendable {
    var state: [[UInt8]: [UInt8]] = [:]

    func evaluateWrite(
        _ arguments: [[UInt8]], overlay: [[UInt8]: KeyWrite], overlayHidesEngine: Bool,
        nowMillis: UInt64
    ) -> WriteEvaluation {
        func current(_ key: [UInt8]) -> [UInt8]? {
            switch overlay[key] {
            case .put(let value, _, _): return value
            case .delete: return nil
            case nil: return overlayHidesEngine ? nil : state[key]
            }
        }
        let name = String(decoding: arguments[0], as: UTF8.self).uppercased()
        switch name {
        case "SET" where arguments.count == 3:
            return WriteEvaluation(
                reply: .ok,
                writes: [
                    arguments[1]: .put(value: arguments[2], type: .string, expiresAtMillis: 0)
                ],
                flushesAll: false)
        case "INCR" where arguments.count == 2:
            let value = current(arguments[1]).flatMap { Int64(redisBytes: $0) } ?? 0
            return WriteEvaluation(
                reply: .integer(value + 1),
                writes: [
                    arguments[1]: .put(
                        value: (value + 1).redisBytes, type: .string, expiresAtMillis: 0)
                ], flushesAll: false)
        default:
            return WriteEvaluation(reply: .error("ERR unknown"), writes: [:], flushesAll: false)
        }
    }

    func apply(_ writes: [[UInt8]: KeyWrite]) {
        for (key, write) in writes {
            switch write {
            case .put(let value, _, _): state[key] = value
            case .delete: state[key] = nil
            }
        }
    }
}

/// A few ``LeaderGroup``s wired together in one thread: an in-memory host that runs their
/// actions, a network that can be cut, and a clock the test moves. Deterministic.
struct GroupHarness {
    struct Member {
        var group: LeaderGroup
        let evaluator: ModelEvaluator
        var replies: [RequestID: (reply: RESPValue, token: LogIndex)] = [:]
        var gates: [RequestID: ReadGate] = [:]
        /// Background syncs held back by the test (a slow disk).
        var heldSyncs: [DiskOperationID] = []
        var holdsSyncs = false
    }

    enum Packet {
        case raft(RaftMessage)
        case forward([UInt8], from: NodeID, to: NodeID)
    }

    var members: [Member] = []
    var packets: [Packet] = []
    /// Node pairs whose messages are dropped (both directions).
    var cut: Set<[NodeID]> = []
    var now = GroupTime(monotonicMillis: 1_000_000, wallMillis: 1_700_000_000_000)
    var nextRequest: UInt64 = 1
    let names: [String]

    init(nodes: Int, limits: LeaderGroupLimits = LeaderGroupLimits()) {
        names = (1...nodes).map { "n\($0)" }
        for (position, name) in names.enumerated() {
            let evaluator = ModelEvaluator()
            let configuration = LeaderGroupConfiguration(
                groupID: .defaultGroup, keyspace: "default", nodeName: name, founders: names,
                joins: false, definition: nil, raft: RaftConfig(), writeTimeoutMillis: 10_000,
                readTimeoutMillis: 5_000, snapshotEntries: 1_000_000, defaultAckMode: .majority,
                limits: limits)
            let group = LeaderGroup(
                configuration: configuration, evaluator: evaluator, durable: .empty,
                engineApplied: .zero, catalog: KeyspaceCatalog(), knownPeers: [:],
                randomSeed: UInt64(position + 1), now: now)
            members.append(Member(group: group, evaluator: evaluator))
        }
    }

    func index(of node: NodeID) -> Int? {
        members.firstIndex { $0.group.nodeID == node }
    }

    var leader: Int? { members.firstIndex { $0.group.raft.isLeader } }

    /// Runs member `i`'s actions until it has none.
    mutating func drain(_ i: Int) {
        var rounds = 0
        while true {
            rounds += 1
            precondition(rounds < 10_000, "member \(i) never went quiet")
            let actions = members[i].group.drain()
            guard !actions.isEmpty else { return }
            var completions: [(DiskOperationID, Bool)] = []
            for action in actions {
                switch action {
                case .send(let messages): packets.append(contentsOf: messages.map(Packet.raft))
                case .forward(let bytes, let peer):
                    packets.append(.forward(bytes, from: members[i].group.nodeID, to: peer))
                case .persist(let id, _, _): completions.append((id, false))
                case .syncInBackground(let id):
                    if members[i].holdsSyncs {
                        members[i].heldSyncs.append(id)
                    } else {
                        completions.append((id, true))
                    }
                case .apply(let writes, _): members[i].evaluator.apply(writes)
                case .applyFlushAll: members[i].evaluator.state.removeAll()
                case .restoreSnapshot:
                    // Nothing here ever writes a snapshot (takeSnapshot is not carried out).
                    preconditionFailure("the harness takes no snapshots to restore from")
                case .reply(let id, let reply, let token): members[i].replies[id] = (reply, token)
                case .readGate(let id, let gate): members[i].gates[id] = gate
                case .takeSnapshot, .saveCatalog, .keyspaceDefined, .peerLearned,
                    .leftGroup, .stopped, .log:
                    break
                }
            }
            members[i].group.finishedActions()
            for (id, isBackground) in completions {
                if isBackground {
                    members[i].group.backgroundSyncCompleted(id, failure: nil)
                } else {
                    members[i].group.diskCompleted(id, failure: nil)
                }
            }
        }
    }

    /// Lets the test's held syncs of member `i` finish.
    mutating func releaseSyncs(_ i: Int) {
        let held = members[i].heldSyncs
        members[i].heldSyncs.removeAll()
        for id in held { members[i].group.backgroundSyncCompleted(id, failure: nil) }
        drain(i)
    }

    /// Delivers messages (and everything they cause) until the network is quiet.
    mutating func settle() {
        for i in members.indices { drain(i) }
        var delivered = 0
        while !packets.isEmpty {
            delivered += 1
            precondition(delivered < 1_000_000, "the network never went quiet")
            let packet = packets.removeFirst()
            switch packet {
            case .raft(let message):
                guard
                    !cut.contains(
                        [message.from, message.to].sorted(by: { $0.rawValue < $1.rawValue })),
                    let to = index(of: message.to)
                else { continue }
                members[to].group.receive(message, now: now)
                drain(to)
            case .forward(let bytes, let from, let toNode):
                guard !cut.contains([from, toNode].sorted(by: { $0.rawValue < $1.rawValue })),
                    let to = index(of: toNode)
                else { continue }
                members[to].group.receiveForward(bytes, from: from, now: now)
                drain(to)
            }
        }
    }

    /// Moves time on by `millis` in ticks of `tickMillis`, ticking every member and settling.
    mutating func advance(millis: UInt64, tickMillis: UInt64 = 50, wallStepMillis: Int64 = 0) {
        var elapsed: UInt64 = 0
        if wallStepMillis != 0 {
            now.wallMillis = UInt64(Int64(now.wallMillis) + wallStepMillis)
        }
        while elapsed < millis {
            now.monotonicMillis += tickMillis
            now.wallMillis += tickMillis
            elapsed += tickMillis
            for i in members.indices {
                members[i].group.tick(now: now)
                drain(i)
            }
            settle()
        }
    }

    /// Ticks until some member leads (bounded).
    mutating func electLeader() -> Int {
        for _ in 0..<200 {
            if let leader { return leader }
            advance(millis: 50)
        }
        preconditionFailure("no leader after 200 ticks")
    }

    mutating func cutOff(_ i: Int) {
        for j in members.indices where j != i {
            cut.insert(
                [members[i].group.nodeID, members[j].group.nodeID].sorted(by: {
                    $0.rawValue < $1.rawValue
                }))
        }
    }

    mutating func heal() { cut.removeAll() }

    mutating func write(
        _ words: [String], on i: Int, ackMode: AckMode = .majority, token: SessionToken = .none
    ) -> RequestID {
        let id = RequestID(nextRequest)
        nextRequest += 1
        members[i].group.submitWrite(
            id, arguments: words.map { Array($0.utf8) }, token: token, ackMode: ackMode, now: now)
        drain(i)
        return id
    }

    mutating func read(
        on i: Int, consistency: ReadConsistency, token: SessionToken = .none
    ) -> RequestID {
        let id = RequestID(nextRequest)
        nextRequest += 1
        members[i].group.submitRead(id, consistency: consistency, token: token, now: now)
        drain(i)
        return id
    }
}
