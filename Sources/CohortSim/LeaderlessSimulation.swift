import CohortCore
import CohortReplication

/// One run of a simulated leaderless keyspace: nodes running the production
/// ``LeaderlessGroup`` over simulated disks (a crash loses what was not yet durable) and a
/// network of encoded messages (delays, loss, partitions), with clients that read, write with
/// the context they read, write blind and delete, all from one seed.
///
/// The run has a fault phase (crashes, restarts, partitions, message loss, client load), then
/// a heal: every node restarts, the network is whole, clients stop, and every key's replicas
/// must agree within a bound by anti-entropy alone. Then the checkers run
/// (``LeaderlessSimulation+Checks``). A reference type because event handlers mutate many
/// parts of the world; it never leaves ``runLeaderlessSimulation(seed:options:)``.
final class LeaderlessSimulation {
    static let tickMillis: UInt64 = 10
    static let epochMillis: UInt64 = 1_750_000_000_000
    static let clientTimeoutMillis: UInt64 = 3_000
    static let convergenceCheckMillis: UInt64 = 100

    let seed: UInt64
    let options: LeaderlessSimulationOptions
    let ring: LeaderlessRing
    let configuration: LeaderlessConfiguration
    var random: SimRandom
    var queue = EventQueue<LeaderlessEvent>(countMax: 2_000_000)
    var nowMillis: UInt64 = 0
    var nodes: [LeaderlessSimNode] = []
    var clients: [LeaderlessSimClient] = []
    var keys: [[UInt8]] = []
    var partition: NetworkPartition = .none
    var dropProbability = 0.0
    var faultsActive = true
    var healMillis: UInt64?
    var finished = false
    var nextRequest: UInt64 = 1
    /// Which client's operation each outstanding request belongs to.
    var requestOwners: [RequestID: (client: Int, operation: Int)] = [:]
    var writes: [LeaderlessWriteRecord] = []
    var reads: [LeaderlessReadRecord] = []
    var result: LeaderlessSimulationResult
    var hasher = TraceHasher()
    /// Statistics of groups that crashed (the restarted group counts from zero).
    var retiredStatistics: [LeaderlessStatistics] = []

    init(seed: UInt64, options: LeaderlessSimulationOptions) {
        self.seed = seed
        self.options = options
        self.random = SimRandom(seed: seed)
        let ids = (1...options.nodes).map { NodeID(UInt64($0)) }
        self.ring = LeaderlessRing(members: ids, replicas: options.replicas)
        let seedChoosesSloppy = random.chance(0.5)
        var sloppy = options.sloppy ?? seedChoosesSloppy
        if options.broken?.needsSloppyQuorums == true { sloppy = true }
        self.configuration = LeaderlessConfiguration(
            replicas: ring.replicas, writeQuorum: options.writeQuorum,
            readQuorum: options.readQuorum, requestTimeoutMillis: 1_000, readRepair: true,
            antiEntropyIntervalMillis: 50, sloppy: sloppy, hintAfterMillis: 50,
            handoffIntervalMillis: 50, faults: options.broken?.faults ?? [])
        self.result = LeaderlessSimulationResult(seed: seed, violations: [])
        self.result.sloppy = sloppy
        self.keys = Self.keys(count: options.keys, ring: ring)
        for id in ids {
            let skew = random.integer(in: 0...100)
            nodes.append(
                LeaderlessSimNode(
                    id: id,
                    group: LeaderlessGroup(nodeID: id, ring: ring, configuration: configuration),
                    clockSkewMillis: UInt64(skew)))
        }
        clients = (0..<options.clients).map { _ in LeaderlessSimClient() }
    }

    /// The keys clients use: the first lands in ring partition 0 (so a fault aimed at one
    /// partition meets a hot key), the rest are spread as they hash.
    static func keys(count: Int, ring: LeaderlessRing) -> [[UInt8]] {
        var keys: [[UInt8]] = []
        var candidate = 0
        while keys.isEmpty {
            let key = Array("key-\(candidate)".utf8)
            if ring.partition(of: key) == 0 { keys.append(key) }
            candidate += 1
        }
        for index in 1..<max(count, 1) { keys.append(Array("k\(index)".utf8)) }
        return keys
    }

    // MARK: Running

    func run() -> LeaderlessSimulationResult {
        for node in nodes.indices {
            queue.schedule(
                .tick(node: node, incarnation: 0), atMicros: UInt64(random.integer(in: 0...9)))
        }
        for client in clients.indices {
            queue.schedule(
                .clientStep(client: client), atMicros: UInt64(random.integer(in: 0...20)))
        }
        if options.faults {
            queue.schedule(.nemesis, atMicros: UInt64(random.integer(in: 200...600)))
            dropProbability = 0.02
        }
        queue.schedule(.heal, atMicros: options.faultMillis)
        while !finished, let entry = queue.popFirst() {
            nowMillis = entry.timeMicros
            handle(entry.payload)
        }
        result.traceHash = hasher.value
        finalChecks()
        return result
    }

    func time(of node: Int) -> GroupTime {
        GroupTime(
            monotonicMillis: nowMillis,
            wallMillis: Self.epochMillis + nowMillis + nodes[node].clockSkewMillis)
    }

    private func handle(_ event: LeaderlessEvent) {
        switch event {
        case .deliver(let from, let to, let bytes):
            guard nodes[to].group != nil, partition.allows(from: nodes[from].id, to: nodes[to].id)
            else { return }
            guard let message = LeaderlessMessageCodec.decode(bytes) else {
                violation("node \(nodes[to].id) could not decode a message of \(bytes.count) bytes")
                return
            }
            hasher.combine(bytes.count)
            let sender = nodes[from].id
            let now = time(of: to)
            nodes[to].group!.receive(message, from: sender, now: now)
            runActions(of: to)
        case .diskDone(let node, let incarnation, let operation):
            guard nodes[node].incarnation == incarnation,
                let write = nodes[node].unsynced.removeValue(forKey: operation.rawValue)
            else { return }
            if let floor = write.dotFloor {
                nodes[node].dotFloorDisk = floor
            } else if let home = write.home {
                nodes[node].hintDisk[home, default: [:]][write.key] = write.state
                if nodes[node].hintDisk[home]?.isEmpty == true { nodes[node].hintDisk[home] = nil }
            } else {
                // An empty state removes the key (a collected tombstone).
                nodes[node].disk[write.key] = write.state?.isEmpty == true ? nil : write.state
            }
            let now = time(of: node)
            nodes[node].group?.diskCompleted(operation, now: now)
            runActions(of: node)
        case .tick(let node, let incarnation):
            guard nodes[node].incarnation == incarnation, nodes[node].group != nil else { return }
            let now = time(of: node)
            nodes[node].group!.tick(now: now)
            runActions(of: node)
            queue.schedule(
                .tick(node: node, incarnation: incarnation), atMicros: nowMillis + Self.tickMillis)
        case .clientStep(let client):
            clientStep(client)
        case .clientWrite(let client, let operation):
            clientWrite(client, operation: operation)
        case .clientTimeout(let client, let operation):
            clientTimedOut(client, operation: operation)
        case .nemesis:
            nemesis()
        case .restart(let node):
            restart(node)
        case .healPartition:
            partition = .none
        case .heal:
            heal()
        case .checkConvergence:
            checkConvergence()
        }
    }

    /// Runs what `node`'s group asked for since its last input.
    func runActions(of node: Int) {
        guard var group = nodes[node].group else { return }
        let actions = group.drain()
        nodes[node].group = group
        for action in actions {
            switch action {
            case .send(let message, let peer):
                let bytes = LeaderlessMessageCodec.encode(message)
                let target = Int(peer.rawValue) - 1
                hasher.combine(target)
                guard partition.allows(from: nodes[node].id, to: peer),
                    !(faultsActive && random.chance(dropProbability))
                else { continue }
                let longDelay = faultsActive && random.chance(0.01)
                let delay = UInt64(random.integer(in: 1...(longDelay ? 80 : 5)))
                queue.schedule(
                    .deliver(from: node, to: target, bytes: bytes), atMicros: nowMillis + delay)
            case .persist(let operation, let key, let state):
                startDiskWrite(node, operation, UnsyncedWrite(key: key, state: state, home: nil))
            case .persistHint(let operation, let home, let key, let state):
                startDiskWrite(node, operation, UnsyncedWrite(key: key, state: state, home: home))
            case .persistDotFloor(let operation, let floor):
                startDiskWrite(
                    node, operation, UnsyncedWrite(key: [], state: nil, home: nil, dotFloor: floor))
            case .writeDone(let request, let outcome):
                writeAnswered(request, outcome)
            case .readDone(let request, let outcome):
                readAnswered(request, outcome)
            }
        }
    }

    /// Gives `node`'s disk a write; it completes after the ones before it.
    private func startDiskWrite(_ node: Int, _ operation: DiskOperationID, _ write: UnsyncedWrite) {
        let done = max(nodes[node].diskFreeMillis, nowMillis + UInt64(random.integer(in: 1...3)))
        nodes[node].diskFreeMillis = done
        nodes[node].unsynced[operation.rawValue] = write
        queue.schedule(
            .diskDone(node: node, incarnation: nodes[node].incarnation, operation: operation),
            atMicros: done)
    }

    // MARK: Faults

    private func nemesis() {
        guard faultsActive else { return }
        let upNodes = nodes.indices.filter { nodes[$0].group != nil }
        switch random.integer(in: 0...2) {
        case 0 where upNodes.count > nodes.count - 2:
            let node = random.element(of: upNodes)
            crash(node)
            queue.schedule(
                .restart(node: node), atMicros: nowMillis + UInt64(random.integer(in: 100...1_500)))
        case 1 where partition == .none:
            let shuffled = random.shuffled(nodes.map(\.id))
            let cut = random.integer(in: 1...(shuffled.count - 1))
            partition = .symmetric(groups: [Array(shuffled[..<cut]), Array(shuffled[cut...])])
            result.partitions += 1
            queue.schedule(
                .healPartition, atMicros: nowMillis + UInt64(random.integer(in: 200...1_500)))
        default:
            break
        }
        queue.schedule(.nemesis, atMicros: nowMillis + UInt64(random.integer(in: 200...800)))
    }

    private func crash(_ node: Int) {
        result.crashes += 1
        if let group = nodes[node].group { retiredStatistics.append(group.statistics) }
        nodes[node].group = nil
        nodes[node].incarnation += 1
        nodes[node].unsynced.removeAll()
        nodes[node].diskFreeMillis = nowMillis
        hasher.combine("crash \(node)")
    }

    private func restart(_ node: Int) {
        guard nodes[node].group == nil else { return }
        let id = nodes[node].id
        nodes[node].group = LeaderlessGroup(
            nodeID: id, ring: ring, configuration: configuration, durableStates: nodes[node].disk,
            durableHints: nodes[node].hintDisk, durableDotFloor: nodes[node].dotFloorDisk)
        queue.schedule(
            .tick(node: node, incarnation: nodes[node].incarnation), atMicros: nowMillis + 1)
    }

    private func heal() {
        faultsActive = false
        healMillis = nowMillis
        partition = .none
        for node in nodes.indices { restart(node) }
        queue.schedule(.checkConvergence, atMicros: nowMillis + Self.convergenceCheckMillis)
    }

    func violation(_ text: String) {
        if result.violations.count < 50 { result.violations.append("t=\(nowMillis) ms: " + text) }
    }
}

/// One simulated node: its group (nil while crashed), its disk, and the writes not yet on it.
struct LeaderlessSimNode {
    var id: NodeID
    var group: LeaderlessGroup?
    var clockSkewMillis: UInt64
    var incarnation = 0
    /// Durable states: what survives a crash.
    var disk: [[UInt8]: SiblingSet] = [:]
    /// Durable hints, by home replica.
    var hintDisk: [NodeID: [[UInt8]: SiblingSet]] = [:]
    /// The durable reservation of dot counters.
    var dotFloorDisk: UInt64 = 0
    /// Persist operations issued and not completed: a crash loses them.
    var unsynced: [UInt64: UnsyncedWrite] = [:]
    /// When the disk finishes what it was given (operations complete in order).
    var diskFreeMillis: UInt64 = 0
}

/// A disk write not yet completed: a key's state, or a hint (nil state: removed).
struct UnsyncedWrite {
    var key: [UInt8]
    var state: SiblingSet?
    var home: NodeID?
    var dotFloor: UInt64?
}

enum LeaderlessEvent {
    case deliver(from: Int, to: Int, bytes: [UInt8])
    case diskDone(node: Int, incarnation: Int, operation: DiskOperationID)
    case tick(node: Int, incarnation: Int)
    case clientStep(client: Int)
    case clientWrite(client: Int, operation: Int)
    case clientTimeout(client: Int, operation: Int)
    case nemesis
    case restart(node: Int)
    case healPartition
    case heal
    case checkConvergence
}
