import CohortCheck
import CohortCore
import CohortNode
import CohortRaft
import CohortReplication
import CohortStorage

/// One run of the simulated world: a cluster of production nodes (``SimNode``: the real
/// command layer, group, runtime, storage engine and Raft log store over simulated disks),
/// simulated Redis clients, network and clocks, all driven by one discrete-event scheduler
/// from one seed (FoundationDB's simulator and TigerBeetle's VOPR are the models).
///
/// The run has a safety phase (faults on, the Raft safety checker after every event), then a
/// liveness phase (faults healed, every member up: a leader must commit new writes within a
/// bound), then a settling window and the final checks (linearizability with the final state,
/// session guarantees, rollback records of discarded `leader`-mode writes). A reference type
/// because the event handlers mutate many parts of the world at once; it never leaves
/// `runSimulation`.
final class Simulation {
    /// Events allowed per nominal tick of the run. A healthy cluster needs a few tens; a run
    /// that exceeds the budget is in a message storm or a livelock and is reported.
    static let eventsPerTickMax = 400
    /// Violations kept per run; later ones are counted in the first's message.
    static let violationsMax = 50
    /// Events a node handles between two `RaftNode.checkInvariants()` calls.
    static let invariantCheckIntervalEvents = 16
    /// The wall clock's reading at simulated time zero (any date; TTLs are relative to it).
    static let epochMillis: UInt64 = 1_750_000_000_000

    let seed: UInt64
    let options: SimulationOptions
    let parameters: SimulationParameters
    let tickMicros = SimulationOptions.tickMicros
    var random: SimRandom
    var queue = EventQueue<SimulationEvent>(countMax: 1_000_000)
    var nowMicros: UInt64 = 0
    var network: SimNetwork
    var nodes: [SimNode] = []
    var founders: [String] = []
    var founderIDs: Set<NodeID> = []
    var clients: [SimulatedClient] = []
    var history = History()
    var sessionReads: [SessionRead] = []
    /// Log index of every acknowledged write's value (values are unique).
    var indexOfValue: [[UInt8]: UInt64] = [:]
    /// Acknowledged writes: client, key, log index, simulated time of the acknowledgement.
    var ackedWrites: [(client: Int, key: [UInt8], index: UInt64, micros: UInt64)] = []
    /// Writes acknowledged in `leader` mode, by history operation.
    var leaderModeWrites: [(operation: OperationID, key: [UInt8], value: [UInt8])] = []
    var rollbacks: [MemoryRollbackLog] = []
    /// Every (key, value) some node committed (`leader`-mode seeds only).
    var appliedValues: Set<[[UInt8]]> = []
    var safety = RaftSafetyChecker()
    /// The keyspace groups' own safety checker (another Raft group, another log).
    var keyspaceSafety = RaftSafetyChecker()
    var keyspaceCreated = false
    var keyspaceMoveScheduled = false
    /// A voter the operator removed from the keyspace and will add back.
    var keyspaceRemovedVoter: Int?
    var keyspaceMovesAccepted = 0
    /// Keyspace groups a node opened again after closing them.
    var keyspaceReopens = 0
    var proxiedCommandsServed = 0
    var keyspaceWritesAcknowledged = 0
    var hasher = TraceHasher()
    var violations: [SimulationViolation] = []
    var violationsDropped = 0
    var traceTail: [String] = []
    var finished = false

    var faultsActive = true
    var clientsActive = true
    var livenessStartMicros: UInt64?
    var livenessReached = false
    var partitionGeneration = 0
    var nextProcess: UInt64 = 1

    var eventsProcessed = 0
    var elections = 0
    var commitIndexMax = LogIndex.zero
    var crashes = 0
    var partitions = 0
    var membershipChangesAccepted = 0
    var previousTermCommitPoints = 0
    var operationsSucceeded = 0
    var operationsIndeterminate = 0
    var writesAcknowledged = 0
    var buggifyFired = 0
    var stops = 0
    var snapshotsTaken = 0
    var promotedNodes: Set<NodeID> = []
    var linearizabilityVerdict = "skipped"

    init(seed: UInt64, options: SimulationOptions) {
        self.seed = seed
        self.options = options
        var random = SimRandom(seed: seed)
        let parameters = SimulationParameters(options: options, random: &random)
        self.parameters = parameters
        self.network = SimNetwork(conditions: parameters.network)
        self.random = random
        setUpWorld()
    }

    private func setUpWorld() {
        let total = parameters.nodeCount + parameters.spareNodeCount
        founders = (1...parameters.nodeCount).map { "n\($0)" }
        founderIDs = Set(founders.map(LeaderGroup.nodeID(named:)))
        for index in 0..<total {
            let driftMax = parameters.clockDriftPartsPerMillionMax
            let drift = random.integer(in: -driftMax...driftMax)
            let period = Int(tickMicros) * (1_000_000 + drift) / 1_000_000
            nodes.append(
                SimNode(
                    index: index, world: self, tickMicros: UInt64(period),
                    isMember: index < parameters.nodeCount))
            rollbacks.append(MemoryRollbackLog())
        }
        for index in 0..<parameters.nodeCount { start(index) }
        for number in 0..<(parameters.clientCount + parameters.keyspaceClientCount) {
            var client = SimulatedClient(
                process: newProcess(), target: random.integer(in: 0...(parameters.nodeCount - 1)))
            if number >= parameters.clientCount { client.keyspace = Self.keyspaceName }
            clients.append(client)
            schedule(.clientIssue(client: clients.count - 1), afterMicros: thinkMicros())
        }
        if parameters.staleReadPercent > 0 {
            var reader = SimulatedClient(
                process: newProcess(), target: random.integer(in: 0...(parameters.nodeCount - 1)))
            reader.readsStaleOnly = true
            clients.append(reader)
            schedule(.clientIssue(client: clients.count - 1), afterMicros: thinkMicros())
        }
        if parameters.keyspaceClientCount > 0 {
            schedule(.createKeyspace, afterMicros: ticks(random.integer(in: 10...60)))
        }
        let faults = parameters.faults
        if faults.contains(.partition) || faults.contains(.crash) || faults.contains(.clock) {
            schedule(.nemesis, afterMicros: nemesisDelayMicros())
        }
        if parameters.membershipChanges {
            schedule(.operatorAction, afterMicros: ticks(random.integer(in: 50...300)))
        }
        schedule(.startLiveness, afterMicros: ticks(options.ticks))
    }

    /// Runs to the end and reports.
    func run() -> SimulationResult {
        let ticksTotal =
            options.ticks + options.livenessTicksMax + parameters.clientTimeoutTicks + 200
        let eventsMax = ticksTotal * Self.eventsPerTickMax
        while !finished, let entry = queue.popFirst() {
            if eventsProcessed >= eventsMax {
                record(
                    .liveness,
                    "event budget of \(eventsMax) exhausted at \(nowMicros / 1_000)ms: a message "
                        + "storm or livelock (queue holds \(queue.count) events)")
                finished = true
                break
            }
            nowMicros = entry.timeMicros
            eventsProcessed += 1
            hasher.combine(entry.timeMicros)
            hasher.combine(entry.payload.code)
            if options.traceLinesMax > 0 { trace("\(entry.payload)") }
            handle(entry.payload)
        }
        finalChecks()
        return result()
    }

    private func handle(_ event: SimulationEvent) {
        switch event {
        case .tick(let node, let incarnation):
            handleTick(node, incarnation: incarnation)
        case .frame(let from, let to, let frame):
            handleFrame(from: from, to: to, frame)
        case .offload(let node, let incarnation, let job):
            guard nodes[node].incarnation == incarnation else { return }
            nodes[node].runOffloaded(job)
            afterEvent(node)
        case .clientRequest(let node, let client, let sequence, let bytes):
            handleClientRequest(node, client: client, sequence: sequence, bytes)
        case .clientReply(let client, let sequence, let bytes, let token):
            handleClientReply(client, sequence: sequence, bytes, token: token)
        case .clientTimeout(let client, let sequence):
            handleClientTimeout(client, sequence: sequence)
        case .clientIssue(let client):
            issue(client)
        case .nemesis:
            handleNemesis()
        case .healPartition(let generation):
            hasher.combine(generation)
            if generation == partitionGeneration { network.partition = .none }
        case .restart(let node):
            hasher.combine(node)
            if !nodes[node].isUp && nodes[node].isMember {
                start(node)
                afterEvent(node)
            }
        case .crashNow(let crashed, let downMicrosMax):
            if faultsActive { crash(crashed, downMicrosMax: downMicrosMax) }
        case .operatorAction:
            handleOperatorAction()
        case .createKeyspace:
            handleCreateKeyspace()
        case .keyspaceMove:
            handleKeyspaceMove()
        case .shellInput(let node, let incarnation, let input):
            handleShellInput(node, incarnation: incarnation, input)
        case .startLiveness:
            startLiveness()
        case .livenessDeadline:
            if !livenessReached {
                record(
                    .liveness,
                    "no new write acknowledged within \(options.livenessTicksMax) ticks after "
                        + "healing; leaders: \(currentLeaders())")
                schedule(.stopClients, afterMicros: 0)
            }
        case .stopClients:
            if clientsActive {
                clientsActive = false
                let settleTicks = parameters.clientTimeoutTicks + 100
                schedule(.end, afterMicros: ticks(settleTicks))
            }
        case .end:
            finished = true
        }
    }

    // MARK: Scheduling helpers

    func schedule(_ event: SimulationEvent, afterMicros delay: UInt64) {
        queue.schedule(event, atMicros: nowMicros + delay)
    }

    func ticks(_ count: Int) -> UInt64 { UInt64(max(0, count)) * tickMicros }

    func nemesisDelayMicros() -> UInt64 {
        ticks(random.integer(in: 1...(2 * parameters.nemesisIntervalTicksMean)))
    }

    func thinkMicros() -> UInt64 {
        random.integer(in: UInt64(0)...parameters.clientThinkMicrosMax)
    }

    func newProcess() -> ProcessID {
        defer { nextProcess += 1 }
        return ProcessID(nextProcess)
    }

    func record(_ kind: SimulationViolation.Kind, _ message: String) {
        if violations.count >= Self.violationsMax {
            violationsDropped += 1
            return
        }
        violations.append(SimulationViolation(kind: kind, timeMicros: nowMicros, message: message))
        if options.stopsAtFirstViolation { finished = true }
    }

    func trace(_ line: String) {
        traceTail.append("\(nowMicros)us \(line)")
        if traceTail.count > options.traceLinesMax {
            traceTail.removeFirst(traceTail.count - options.traceLinesMax)
        }
    }

    func currentLeaders() -> String {
        let leaders = nodes.compactMap { node -> String? in
            guard let raft = node.raft, raft.isLeader else { return nil }
            return "\(node.name)@\(raft.term)"
        }
        return leaders.isEmpty ? "none" : leaders.joined(separator: ",")
    }

    /// Records the writes of entries node `index` has committed since it was last looked at
    /// (every committed write, even one a later entry of the same batch overwrote).
    func noteCommitted(_ index: Int) {
        guard let raft = nodes[index].raft else { return }
        noteCommitted(raft: raft, scanned: &nodes[index].committedScanned)
    }

    /// Records the writes of `raft`'s committed entries after `scanned`, and moves it on.
    func noteCommitted(raft: RaftNode, scanned: inout LogIndex) {
        var next = max(scanned.next, raft.firstIndex)
        while next <= raft.commitIndex, let entry = raft.entry(at: next) {
            if case .normal(let data) = entry.kind, let logical = LogicalEntryCodec.decode(data) {
                for effect in logical.effects {
                    if case .put(let key, let value, _, _) = effect {
                        appliedValues.insert([key, value])
                    }
                }
            }
            next = next.next
        }
        scanned = max(scanned, raft.commitIndex)
    }

    /// The rollback log of node `index` (it survives the node's crashes, as its file would).
    func rollback(of index: Int) -> MemoryRollbackLog { rollbacks[index] }

    /// A product-code fault point: fires with the seed's BUGGIFY probability, in the safety
    /// phase only (FoundationDB's BUGGIFY).
    func buggify(_ point: FaultPoint) -> Bool {
        guard faultsActive, parameters.buggifyProbability > 0,
            random.chance(parameters.buggifyProbability)
        else { return false }
        buggifyFired += 1
        hasher.combine(point.rawValue)
        return true
    }

    /// A node's group stopped itself (a disk or apply failure, fsyncgate). Its process then
    /// exits and is restarted, as a supervisor would: `afterEvent` crashes it once the batch
    /// that stopped it is over, and the restart recovers from its disk.
    func nodeStopped(_ index: Int, _ message: String) {
        stops += 1
        if options.traceLinesMax > 0 { trace("\(nodes[index].name) stopped: \(message)") }
    }

    private func startLiveness() {
        faultsActive = false
        livenessStartMicros = nowMicros
        partitionGeneration += 1
        network.partition = .none
        network.conditions.dropProbability = 0
        network.conditions.duplicateProbability = 0
        for index in nodes.indices where nodes[index].isMember && !nodes[index].isUp {
            start(index)
            afterEvent(index)
        }
        for index in nodes.indices { nodes[index].stallTicks = 0 }
        schedule(.livenessDeadline, afterMicros: ticks(options.livenessTicksMax))
    }
}

/// A product-code fault point the simulator may fire (see ``Simulation/buggify(_:)``).
enum FaultPoint: UInt64, Sendable {
    /// A forwarded write (or its answer) is lost on its way.
    case dropForward = 1
    /// A background log fsync takes much longer than usual.
    case slowSync = 2
    /// A tick is late (a slow apply or a long pause of the node's thread).
    case slowTick = 3
}

/// An in-memory rollback log: what a node's `rollback.log` would hold. It survives the node's
/// crashes (the real one is fsynced per record).
final class MemoryRollbackLog: RollbackRecording, @unchecked Sendable {
    private(set) var records: [(index: LogIndex, term: Term, entry: LogicalEntry)] = []

    func record(index: LogIndex, term: Term, entry: LogicalEntry, nowMillis: UInt64) {
        records.append((index, term, entry))
    }

    var count: Int { records.count }
}
