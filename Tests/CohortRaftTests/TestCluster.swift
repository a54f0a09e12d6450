import CohortCore
import CohortRaft

/// A tiny deterministic driver for tests: N nodes, a FIFO network that can cut links, and a
/// disk per node holding exactly what each ready asked to persist.
struct TestCluster {
    var nodes: [NodeID: RaftNode] = [:]
    var disks: [NodeID: RaftDurableState] = [:]
    var appliedEntries: [NodeID: [RaftEntry]] = [:]
    var restoredSnapshots: [NodeID: [RaftSnapshot]] = [:]
    /// The data of each restored snapshot, as the node's chunks assembled it.
    var restoredSnapshotData: [NodeID: [[UInt8]]] = [:]
    /// Each node's current snapshot data (its own, or the last one received): what its chunks
    /// are read from, as a host reads them from its snapshot file.
    var snapshotData: [NodeID: [UInt8]] = [:]
    /// The chunks of a snapshot each node is receiving.
    var receivingData: [NodeID: [UInt8]] = [:]
    var readStates: [NodeID: [RaftReadState]] = [:]
    var readies: [NodeID: [RaftReady]] = [:]
    var network: [RaftMessage] = []
    var delivered: [RaftMessage] = []
    var cutLinks: Set<[NodeID]> = []
    var down: Set<NodeID> = []
    var membership: RaftMembership
    /// The membership each node was created with (empty for nodes added later).
    var bootstrapMembership: [NodeID: RaftMembership] = [:]
    var config: RaftConfig
    /// When set, sees every message before delivery: returns it (possibly changed) or nil to
    /// drop it.
    var intercept: ((RaftMessage) -> RaftMessage?)?

    init(voters: Int, witnesses: [UInt64] = [], config: RaftConfig = RaftConfig(), seed: UInt64 = 1)
    {
        self.config = config
        let voterIDs = (1...UInt64(voters)).map(NodeID.init)
        membership = RaftMembership(voters: voterIDs, witnesses: witnesses.map(NodeID.init))
        for id in membership.allMembers {
            addNode(id, membership: membership, seed: seed &+ id.rawValue)
        }
    }

    mutating func addNode(
        _ id: NodeID, membership: RaftMembership, seed: UInt64 = 99, config: RaftConfig? = nil
    ) {
        nodes[id] = RaftNode(
            id: id, config: config ?? self.config, membership: membership, randomSeed: seed)
        disks[id] = .empty
    }

    static func id(_ raw: UInt64) -> NodeID { NodeID(raw) }

    var ids: [NodeID] { nodes.keys.sorted() }

    func node(_ raw: UInt64) -> RaftNode { nodes[NodeID(raw)]! }

    var leaders: [NodeID] { ids.filter { nodes[$0]!.isLeader && !down.contains($0) } }

    /// The one leader with the highest term among live nodes.
    var leader: NodeID? {
        leaders.max { nodes[$0]!.term < nodes[$1]!.term }
    }

    func canDeliver(_ message: RaftMessage) -> Bool {
        !down.contains(message.from) && !down.contains(message.to)
            && !cutLinks.contains([message.from, message.to])
    }

    mutating func isolate(_ raw: UInt64) {
        let isolated = NodeID(raw)
        for other in ids where other != isolated {
            cutLinks.insert([isolated, other])
            cutLinks.insert([other, isolated])
        }
    }

    mutating func heal() { cutLinks = [] }

    /// Persists and dispatches every ready of `id` until it has none.
    mutating func drainReady(_ id: NodeID) {
        guard !down.contains(id) else { return }
        var guardCount = 0
        while nodes[id]!.hasReady {
            guardCount += 1
            precondition(guardCount < 1000, "ready loop of \(id) does not settle")
            let ready = nodes[id]!.ready()
            readies[id, default: []].append(ready)
            for chunk in ready.snapshotChunks {
                if chunk.offset == 0 { receivingData[id] = [] }
                precondition(receivingData[id]?.count == Int(chunk.offset), "chunk out of order")
                receivingData[id]!.append(contentsOf: chunk.bytes)
            }
            persist(ready, on: id)
            network.append(contentsOf: ready.messages.map { filled($0) })
            if let snapshot = ready.snapshot {
                let data = receivingData.removeValue(forKey: id) ?? []
                precondition(
                    data.count == Int(snapshot.size), "received \(data.count) of \(snapshot.size)")
                snapshotData[id] = data
                restoredSnapshots[id, default: []].append(snapshot)
                restoredSnapshotData[id, default: []].append(data)
                appliedEntries[id] = []
            }
            appliedEntries[id, default: []].append(contentsOf: ready.committedEntries)
            readStates[id, default: []].append(contentsOf: ready.readStates)
            nodes[id]!.advance(ready)
            nodes[id]!.checkInvariants()
        }
    }

    /// A message with its snapshot chunk read from the sender's snapshot data.
    func filled(_ message: RaftMessage) -> RaftMessage {
        guard case .installSnapshotRequest(var request) = message.body, request.needsData else {
            return message
        }
        let data = snapshotData[message.from] ?? []
        let start = Int(request.offset)
        request.chunk = Array(data[start..<(start + request.chunkLength)])
        var message = message
        message.body = .installSnapshotRequest(request)
        return message
    }

    /// `id`'s application snapshots its state through `index` as `data`.
    mutating func compact(_ id: NodeID, upTo index: LogIndex, data: [UInt8]) {
        guard nodes[id]!.snapshotMetadata(through: index) != nil else { return }
        snapshotData[id] = data
        nodes[id]!.compact(upTo: index, snapshotBytes: UInt64(data.count))
    }

    mutating func persist(_ ready: RaftReady, on id: NodeID) {
        var disk = disks[id]!
        if let snapshot = ready.snapshot {
            disk.snapshot = snapshot
            disk.entries = []
        }
        if let first = ready.entriesToAppend.first {
            disk.entries.removeAll { $0.index >= first.index }
            disk.entries.append(contentsOf: ready.entriesToAppend)
        }
        if let hardState = ready.hardState { disk.hardState = hardState }
        disks[id] = disk
    }

    /// Drains readies and delivers messages until the network is quiet.
    mutating func stabilize(stepsMax: Int = 10_000) {
        var steps = 0
        while true {
            for id in ids { drainReady(id) }
            if network.isEmpty { return }
            let batch = network
            network = []
            for message in batch {
                steps += 1
                precondition(steps < stepsMax, "cluster does not stabilize")
                guard canDeliver(message) else { continue }
                guard let message = intercept.map({ $0(message) }) ?? message else { continue }
                delivered.append(message)
                nodes[message.to]!.receive(message)
                nodes[message.to]!.checkInvariants()
            }
        }
    }

    /// Ticks every live node `count` times, stabilizing after each tick.
    mutating func tick(_ count: Int = 1) {
        for _ in 0..<count {
            for id in ids where !down.contains(id) {
                nodes[id]!.tick()
            }
            stabilize()
        }
    }

    /// Ticks until a leader exists (at most `ticksMax`), returning it.
    @discardableResult
    mutating func electLeader(ticksMax: Int = 200) -> NodeID? {
        for _ in 0..<ticksMax {
            if let leader { return leader }
            tick()
        }
        return leader
    }

    mutating func campaign(_ raw: UInt64) {
        nodes[NodeID(raw)]!.campaign()
        stabilize()
    }

    mutating func propose(_ raw: UInt64, _ text: String) -> RaftProposeResult {
        let result = nodes[NodeID(raw)]!.propose(Array(text.utf8))
        stabilize()
        return result
    }

    /// Stops a node; it keeps only its disk.
    mutating func crash(_ raw: UInt64) {
        down.insert(NodeID(raw))
    }

    /// Restarts a crashed node from its disk.
    mutating func restart(_ raw: UInt64, seed: UInt64 = 7) {
        let id = NodeID(raw)
        down.remove(id)
        nodes[id] = RaftNode(
            id: id, config: nodes[id]!.config, membership: bootstrapMembership[id] ?? membership,
            durableState: disks[id]!, randomSeed: seed)
        appliedEntries[id] = []
    }

    /// The data of the normal entries `id` applied, as strings.
    func appliedTexts(_ raw: UInt64) -> [String] {
        (appliedEntries[NodeID(raw)] ?? []).compactMap { entry in
            if case .normal(let data) = entry.kind { return String(decoding: data, as: UTF8.self) }
            return nil
        }
    }
}
