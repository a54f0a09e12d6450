import CohortCore
import CohortRaft
import Testing

@testable import CohortReplication

/// A strategy's group with a host that carries out its actions the way a real host does
/// (disk work completes at once). Each strategy provides one; the contract below is the same
/// for all of them.
protocol ContractHost {
    associatedtype Group: ReplicationGroup
    var group: Group { get set }
    var now: GroupTime { get set }
    /// Runs one drained batch, then hands the group the completions it produced.
    mutating func run(_ actions: [Group.Action])
    /// Something the strategy's group can take as a write.
    func writeArguments(_ number: Int) -> [[UInt8]]
}

extension ContractHost {
    /// Drains and runs until the group is quiet; returns every action seen.
    mutating func settle() -> [Group.Action] {
        var seen: [Group.Action] = []
        for _ in 0..<10_000 {
            let actions = group.drain()
            guard !actions.isEmpty else { return seen }
            seen += actions
            run(actions)
        }
        Issue.record("the group never went quiet")
        return seen
    }

    /// Ticks `count` times (10 ms apart), settling after each.
    mutating func tick(_ count: Int) -> [Group.Action] {
        var seen: [Group.Action] = []
        for _ in 0..<count {
            now = GroupTime(
                monotonicMillis: now.monotonicMillis + 10, wallMillis: now.wallMillis + 10)
            group.tick(now: now)
            seen += settle()
        }
        return seen
    }
}

/// Which requests were answered, and how often.
struct RequestLedger {
    var submitted: [RequestID] = []
    var answers: [RequestID: Int] = [:]
    var stopReplies = 0

    mutating func record<Action: ReplicationGroupAction>(_ actions: [Action]) {
        for action in actions {
            if let id = action.answeredRequest { answers[id, default: 0] += 1 }
            if action.stopReply != nil { stopReplies += 1 }
        }
    }

    var unanswered: [RequestID] { submitted.filter { answers[$0] == nil } }
    var answeredTwice: [RequestID] { answers.filter { $0.value > 1 }.map(\.key) }
}

/// What every replication strategy's group promises its host (`ReplicationGroup`): each
/// client request answered exactly once, by its id or by the stop that ends the group, and
/// nothing taken after a stop. A new strategy adds its `ContractHost` and runs these.
enum ReplicationGroupContract {
    /// A working group: every request answered exactly once, then a shutdown answers the
    /// ones still in flight (or the stop covers them), and later requests are answered at once.
    static func servesThenShutsDown<Host: ContractHost>(_ host: inout Host) {
        var ledger = RequestLedger()
        ledger.record(host.tick(100))
        var next: UInt64 = 1
        func request() -> RequestID {
            defer { next += 1 }
            ledger.submitted.append(RequestID(next))
            return RequestID(next)
        }
        for number in 0..<20 {
            if number % 4 == 3 {
                host.group.submitRead(
                    request(), consistency: .linearizable, token: .none, now: host.now)
            } else {
                host.group.submitWrite(
                    request(), arguments: host.writeArguments(number), token: .none,
                    ackMode: .majority, now: host.now)
            }
            ledger.record(host.settle())
        }
        ledger.record(host.tick(50))
        #expect(ledger.unanswered.isEmpty, "unanswered: \(ledger.unanswered)")
        #expect(ledger.answeredTwice.isEmpty, "answered twice: \(ledger.answeredTwice)")
        #expect(ledger.stopReplies == 0)

        // In flight when the node stops: answered, or covered by the stop.
        for number in 20..<25 {
            host.group.submitWrite(
                request(), arguments: host.writeArguments(number), token: .none,
                ackMode: .majority, now: host.now)
        }
        host.group.shutDown()
        ledger.record(host.settle())
        #expect(host.group.isStopped)
        #expect(ledger.stopReplies == 1)
        #expect(ledger.answeredTwice.isEmpty, "answered twice: \(ledger.answeredTwice)")

        // After the stop: answered at once, never held.
        let late = request()
        host.group.submitWrite(
            late, arguments: host.writeArguments(99), token: .none, ackMode: .majority,
            now: host.now)
        let lateRead = request()
        host.group.submitRead(lateRead, consistency: .linearizable, token: .none, now: host.now)
        ledger.record(host.settle())
        #expect(ledger.answers[late] == 1 && ledger.answers[lateRead] == 1)
        ledger.record(host.tick(10))
        #expect(ledger.stopReplies == 1, "a stopped group stops once")
    }

    /// A group that cannot serve (no quorum): requests are held, never dropped; the stop
    /// tells the host to fail every one it holds.
    static func heldRequestsEndWithTheStop<Host: ContractHost>(_ host: inout Host) {
        var ledger = RequestLedger()
        ledger.record(host.tick(20))
        for number in 0..<10 {
            let id = RequestID(UInt64(number + 1))
            ledger.submitted.append(id)
            host.group.submitWrite(
                id, arguments: host.writeArguments(number), token: .none, ackMode: .majority,
                now: host.now)
        }
        ledger.record(host.tick(20))
        #expect(ledger.stopReplies == 0)
        host.group.stop(because: "the contract test stops it")
        ledger.record(host.settle())
        #expect(host.group.isStopped)
        #expect(ledger.stopReplies == 1, "the stop tells the host to fail what it holds")
        #expect(ledger.answeredTwice.isEmpty)
    }
}

/// The single-leader group under the contract.
struct LeaderGroupContractHost: ContractHost {
    var group: LeaderGroup
    var now = GroupTime(monotonicMillis: 1_000_000, wallMillis: 1_700_000_000_000)
    let evaluator = ModelEvaluator()

    /// A group of `founders` (this node first); alone when there is one.
    init(founders: [String], snapshotLogBytesMin: UInt64? = nil) {
        var configuration = LeaderGroupConfiguration(
            groupID: .defaultGroup, keyspace: "default", nodeName: founders[0],
            founders: founders, joins: false, definition: nil, raft: RaftConfig(),
            writeTimeoutMillis: 10_000, readTimeoutMillis: 5_000, snapshotEntries: 1_000_000,
            defaultAckMode: .majority, limits: LeaderGroupLimits())
        if let snapshotLogBytesMin { configuration.snapshotLogBytesMin = snapshotLogBytesMin }
        group = LeaderGroup(
            configuration: configuration, evaluator: evaluator, durable: .empty,
            engineApplied: .zero, catalog: KeyspaceCatalog(), knownPeers: [:], randomSeed: 7,
            now: now)
    }

    mutating func run(_ actions: [LeaderGroupAction]) {
        var completions: [(DiskOperationID, Bool)] = []
        for action in actions {
            switch action {
            case .persist(let id, _, _): completions.append((id, false))
            case .syncInBackground(let id): completions.append((id, true))
            case .apply(let writes, _): evaluator.apply(writes)
            case .applyFlushAll: evaluator.state.removeAll()
            default: break
            }
        }
        group.finishedActions()
        for (id, isBackground) in completions {
            if isBackground {
                group.backgroundSyncCompleted(id, failure: nil)
            } else {
                group.diskCompleted(id, failure: nil)
            }
        }
    }

    func writeArguments(_ number: Int) -> [[UInt8]] {
        [Array("SET".utf8), Array("k\(number % 5)".utf8), Array("v\(number)".utf8)]
    }
}

@Suite struct ReplicationGroupContractTests {
    @Test func singleLeaderServesThenShutsDown() {
        var host = LeaderGroupContractHost(founders: ["n1"])
        ReplicationGroupContract.servesThenShutsDown(&host)
        #expect(host.group.raft.isLeader || host.group.isStopped)
        #expect(!host.evaluator.state.isEmpty, "the writes were applied")
    }

    @Test func singleLeaderWithoutQuorumHoldsThenFailsEverything() {
        // Three founders, two of them never heard from: no leader, requests wait.
        var host = LeaderGroupContractHost(founders: ["n1", "n2", "n3"])
        ReplicationGroupContract.heldRequestsEndWithTheStop(&host)
    }

    /// Snapshots come by bytes too (large values), and the threshold grows with the last
    /// snapshot, so a large state is not rewritten for every few megabytes of log.
    @Test func aLogOfLargeValuesIsSnapshottedByBytesWithGrowth() {
        var host = LeaderGroupContractHost(founders: ["n1"], snapshotLogBytesMin: 8_000)
        _ = host.tick(100)
        #expect(host.group.raft.isLeader)
        var taken: [RaftSnapshotMetadata] = []
        func write(_ count: Int, from first: Int) {
            for number in first..<(first + count) {
                host.group.submitWrite(
                    RequestID(UInt64(1_000 + number)),
                    arguments: [
                        Array("SET".utf8), Array("k\(number)".utf8),
                        Array(repeating: 120, count: 1_000),
                    ], token: .none, ackMode: .majority, now: host.now)
                for action in host.settle() {
                    if case .takeSnapshot(let metadata, _, _) = action { taken.append(metadata) }
                }
            }
        }
        write(6, from: 0)
        #expect(taken.isEmpty, "6 KB is below 8 KB")
        write(4, from: 6)
        #expect(taken.count == 1, "10 KB passed 8 KB")
        // The snapshot was 50 KB: the next one waits for 50 KB of log, not 8 KB.
        if let metadata = taken.first {
            host.group.snapshotSaved(RaftSnapshot(metadata: metadata, size: 50_000), failure: nil)
        }
        write(20, from: 10)
        #expect(taken.count == 1, "20 KB is below the last snapshot's 50 KB")
        write(35, from: 30)
        #expect(taken.count == 2, "55 KB passed it")
    }
}
