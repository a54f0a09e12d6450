import CohortCore
import CohortRaft
import Testing

@testable import CohortStorage

/// Three Raft nodes in memory with a lossy FIFO network. Node 1 persists every ready through
/// a real ``RaftLogStore`` (with small segments) and is crashed, kept down and restarted from
/// it; nodes 2 and 3 keep their durable state in memory. `expected` is what node 1 asked to
/// persist, kept by the rules ``RaftReady`` states, to compare the store against.
private struct StoreCluster {
    static let storeID = NodeID(1)
    static let nodeIDs = [NodeID(1), NodeID(2), NodeID(3)]
    /// Messages in flight at once; older ones are dropped beyond it (a lossy network).
    static let networkMessagesMax = 2_000

    let config = RaftConfig()
    let membership = RaftMembership(voters: nodeIDs)
    let directory: String
    let options: RaftLogStoreOptions
    var nodes: [NodeID: RaftNode] = [:]
    var memoryDisks: [NodeID: RaftDurableState] = [:]
    /// The snapshot data of the nodes without a store, and what they are receiving.
    var memorySnapshotData: [NodeID: [UInt8]] = [:]
    var memoryReceiving: [NodeID: [UInt8]] = [:]
    var store: RaftLogStore
    var expected = RaftDurableState.empty
    var network: [RaftMessage] = []
    var random: SeededGenerator
    var storeNodeDownUntilStep: Int?
    var restarts = 0
    var compactions = 0
    var segmentsRemoved = 0
    var snapshotsInstalled = 0
    var storeChecks = 0
    var mismatches: [String] = []

    init(directory: String, seed: UInt64) throws {
        self.directory = directory
        var options = RaftLogStoreOptions()
        options.segmentBytesMax = 4096
        self.options = options
        random = SeededGenerator(seed: seed)
        store = try RaftLogStore.open(directory: directory, options: options)
        for id in Self.nodeIDs {
            nodes[id] = RaftNode(
                id: id, config: config, membership: membership, randomSeed: seed &+ id.rawValue)
            memoryDisks[id] = .empty
        }
    }

    func isUp(_ id: NodeID) -> Bool { id != Self.storeID || storeNodeDownUntilStep == nil }

    var leader: NodeID? {
        Self.nodeIDs.filter { isUp($0) && nodes[$0]!.isLeader }
            .max { nodes[$0]!.term < nodes[$1]!.term }
    }

    /// Applies step 1 of `ready` to an in-memory durable state.
    static func apply(_ ready: RaftReady, to disk: inout RaftDurableState) {
        if let snapshot = ready.snapshot {
            disk.snapshot = snapshot
            disk.entries = []
        }
        if let first = ready.entriesToAppend.first {
            disk.entries.removeAll { $0.index >= first.index }
            let snapshotIndex = disk.snapshot?.metadata.index ?? .zero
            disk.entries.append(
                contentsOf: ready.entriesToAppend.filter { $0.index > snapshotIndex })
        }
        if let hardState = ready.hardState { disk.hardState = hardState }
    }

    /// A short form of a durable state for failure messages.
    static func summary(_ state: RaftDurableState) -> String {
        let differing = state.entries.last.map { "\($0)" } ?? "-"
        return "\(state.hardState) snapshot \(state.snapshot?.metadata.index ?? .zero)"
            + " entries \(state.entries.count) last \(differing)"
    }

    mutating func compare(_ context: String) {
        storeChecks += 1
        if store.durableState != expected, mismatches.count < 5 {
            mismatches.append(
                "\(context): store \(Self.summary(store.durableState)), expected"
                    + " \(Self.summary(expected))")
        }
    }

    /// Persists and dispatches every ready of `id` until it has none.
    mutating func drain(_ id: NodeID) throws {
        guard isUp(id) else { return }
        var iterations = 0
        while nodes[id]!.hasReady {
            iterations += 1
            precondition(iterations < 1_000, "ready loop of \(id) does not settle")
            let ready = nodes[id]!.ready()
            if id == Self.storeID {
                try store.persist(ready)
                Self.apply(ready, to: &expected)
                compare("after a ready")
                if ready.snapshot != nil { snapshotsInstalled += 1 }
            } else {
                for chunk in ready.snapshotChunks {
                    if chunk.offset == 0 { memoryReceiving[id] = [] }
                    memoryReceiving[id, default: []].append(contentsOf: chunk.bytes)
                }
                if ready.snapshot != nil {
                    memorySnapshotData[id] = memoryReceiving.removeValue(forKey: id) ?? []
                }
                Self.apply(ready, to: &memoryDisks[id]!)
            }
            for var message in ready.messages {
                if case .installSnapshotRequest(var request) = message.body, request.needsData {
                    if id == Self.storeID {
                        request.chunk =
                            try store.readSnapshotData(
                                of: request.metadata, offset: request.offset,
                                count: request.chunkLength) ?? []
                    } else {
                        let data = memorySnapshotData[id] ?? []
                        let start = Int(request.offset)
                        request.chunk = Array(data[start..<(start + request.chunkLength)])
                    }
                    message.body = .installSnapshotRequest(request)
                }
                network.append(message)
            }
            nodes[id]!.advance(ready)
            nodes[id]!.checkInvariants()
        }
    }

    mutating func drainAll() throws {
        for id in Self.nodeIDs { try drain(id) }
    }

    /// Drains and delivers `rounds` times without ticking.
    mutating func settle(rounds: Int) throws {
        for _ in 0..<rounds {
            try drainAll()
            try deliver()
            try drainAll()
        }
    }

    /// Delivers every message in flight, losing some and those to or from a down node.
    mutating func deliver() throws {
        if network.count > Self.networkMessagesMax {
            network.removeFirst(network.count - Self.networkMessagesMax)
        }
        let batch = network
        network = []
        for message in batch {
            guard isUp(message.from), isUp(message.to),
                Int.random(in: 0..<100, using: &random) >= 5
            else { continue }
            nodes[message.to]!.receive(message)
            try drain(message.to)
        }
    }

    /// Crashes node 1 and restarts it from a reopened store.
    mutating func restartStoreNode(seed: UInt64) throws {
        store = try RaftLogStore.open(directory: directory, options: options)
        compare("after reopening")
        let durable = store.durableState
        let node = RaftNode(
            id: Self.storeID, config: config, membership: membership, durableState: durable,
            randomSeed: seed)
        node.checkInvariants()
        if node.entries != durable.entries || node.term != durable.hardState.term
            || node.snapshotIndex != (durable.snapshot?.metadata.index ?? .zero)
            || node.commitIndex < durable.hardState.commitIndex
        {
            mismatches.append(
                "restarted node differs from its durable state at restart \(restarts)")
        }
        nodes[Self.storeID] = node
        restarts += 1
    }

    /// Takes a snapshot on `id` through its applied index and drops the log it covers.
    mutating func compact(_ id: NodeID) throws {
        let node = nodes[id]!
        guard isUp(id), node.appliedIndex.rawValue >= node.snapshotIndex.rawValue + 8 else {
            return
        }
        let data = Array("state@\(node.appliedIndex)".utf8)
        nodes[id]!.compact(upTo: node.appliedIndex, snapshotBytes: UInt64(data.count))
        let snapshot = nodes[id]!.snapshot!
        if id == Self.storeID {
            try store.saveSnapshot(snapshot.metadata, data: data)
            segmentsRemoved += try store.compact(upTo: snapshot.metadata.index).count
            expected.snapshot = snapshot
            expected.entries.removeAll { $0.index <= snapshot.metadata.index }
            compare("after compaction")
        } else {
            memoryDisks[id]!.snapshot = snapshot
            memorySnapshotData[id] = data
            memoryDisks[id]!.entries.removeAll { $0.index <= snapshot.metadata.index }
        }
        compactions += 1
    }

    mutating func run(steps: Int) throws {
        for step in 0..<steps {
            if let until = storeNodeDownUntilStep, step >= until {
                storeNodeDownUntilStep = nil
                try restartStoreNode(seed: UInt64(step))
            }
            let roll = Int.random(in: 0..<100, using: &random)
            switch roll {
            case 0..<45:
                for id in Self.nodeIDs where isUp(id) { nodes[id]!.tick() }
            case 45..<85:
                if let leader {
                    for number in 0..<Int.random(in: 1...4, using: &random) {
                        _ = nodes[leader]!.propose(Array("value \(step).\(number)".utf8))
                    }
                }
            case 85..<89:
                if isUp(Self.storeID) { try restartStoreNode(seed: UInt64(step)) }
            case 89..<91:
                // A longer outage, so the others compact past node 1's log and it needs a
                // snapshot when it returns.
                if isUp(Self.storeID) { storeNodeDownUntilStep = step + 40 }
            default:
                try compact(Self.nodeIDs[Int.random(in: 0..<3, using: &random)])
            }
            try drainAll()
            try deliver()
            try drainAll()
        }
        if storeNodeDownUntilStep != nil {
            storeNodeDownUntilStep = nil
            try restartStoreNode(seed: 0)
        }
        // Heal: no loss, ticks until node 1 has caught up with a leader's commit.
        for _ in 0..<200 {
            for id in Self.nodeIDs { nodes[id]!.tick() }
            try drainAll()
            try deliver()
            try drainAll()
            if let leader, nodes[Self.storeID]!.commitIndex == nodes[leader]!.commitIndex,
                nodes[Self.storeID]!.lastIndex == nodes[leader]!.lastIndex
            {
                break
            }
        }
    }
}

@Suite("RaftLogStore with a live Raft cluster")
struct RaftLogStoreClusterTests {
    @Test(
        "a node persisting through RaftLogStore restarts to exactly what it persisted",
        arguments: [UInt64(1), 2, 3])
    func restartedNodeMatchesItsDurableLog(seed: UInt64) throws {
        let directory = TemporaryDirectory("cluster\(seed)")
        var cluster = try StoreCluster(directory: directory.path, seed: seed)
        try cluster.run(steps: 300)
        #expect(cluster.mismatches.isEmpty, "\(cluster.mismatches)")
        #expect(cluster.storeChecks > 100)
        #expect(cluster.restarts >= 3)
        #expect(cluster.compactions >= 1)
        let storeNode = cluster.nodes[StoreCluster.storeID]!
        let leader = try #require(cluster.leader)
        let leaderNode = cluster.nodes[leader]!
        #expect(storeNode.commitIndex.rawValue >= 20)
        #expect(storeNode.commitIndex == leaderNode.commitIndex)
        // Log matching (Raft §5.3): every index both hold has the same entry.
        for entry in storeNode.entries {
            if let other = leaderNode.entry(at: entry.index) {
                #expect(other == entry)
            }
        }
        // A final restart agrees too, including with the segments left on disk.
        try cluster.restartStoreNode(seed: 99)
        #expect(cluster.mismatches.isEmpty, "\(cluster.mismatches)")
    }

    @Test("a node brought back after the others compacted installs a snapshot through the store")
    func snapshotInstalledThroughStore() throws {
        let directory = TemporaryDirectory()
        var cluster = try StoreCluster(directory: directory.path, seed: 7)
        let leaderID = NodeID(2)
        cluster.nodes[leaderID]!.campaign()
        try cluster.settle(rounds: 20)
        #expect(cluster.leader == leaderID)
        cluster.storeNodeDownUntilStep = Int.max
        for number in 0..<30 {
            _ = cluster.nodes[leaderID]!.propose(Array("while down \(number)".utf8))
            try cluster.settle(rounds: 1)
        }
        try cluster.compact(leaderID)
        try cluster.compact(NodeID(3))
        let leaderSnapshotIndex = cluster.nodes[leaderID]!.snapshotIndex
        #expect(leaderSnapshotIndex.rawValue >= 30)
        cluster.storeNodeDownUntilStep = nil
        try cluster.restartStoreNode(seed: 5)
        for _ in 0..<100 {
            for id in StoreCluster.nodeIDs { cluster.nodes[id]!.tick() }
            try cluster.settle(rounds: 1)
            if cluster.nodes[StoreCluster.storeID]!.commitIndex
                == cluster.nodes[leaderID]!.commitIndex
            {
                break
            }
        }
        #expect(cluster.snapshotsInstalled >= 1)
        #expect(cluster.store.snapshotIndex >= leaderSnapshotIndex)
        #expect(cluster.store.snapshot == cluster.nodes[leaderID]!.snapshot)
        #expect(cluster.store.latestSnapshotData == cluster.memorySnapshotData[leaderID])
        try cluster.restartStoreNode(seed: 6)
        #expect(cluster.nodes[StoreCluster.storeID]!.snapshotIndex >= leaderSnapshotIndex)
        #expect(cluster.mismatches.isEmpty, "\(cluster.mismatches)")
    }
}
