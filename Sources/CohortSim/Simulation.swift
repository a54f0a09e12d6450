import CohortCheck
import CohortCore
import CohortRaft

/// One run of the simulated world: a cluster of Raft nodes with key-value state machines,
/// simulated clients, network, disks and clocks, all driven by one discrete-event scheduler
/// from one seed (FoundationDB's simulator and TigerBeetle's VOPR are the models).
///
/// The run has a safety phase (faults on, the Raft safety checker after every event), then a
/// liveness phase (faults healed, every member up: a leader must commit new writes within a
/// bound), then a settling window and the final checks (linearizability, lost acknowledged
/// writes, state machine agreement). A reference type because the event handlers mutate many
/// parts of the world at once; it never leaves `runSimulation`.
final class Simulation {
    /// Events allowed per nominal tick of the run (safety, liveness and settling phases). A
    /// healthy cluster needs a few tens; a run that exceeds the budget is in a message storm
    /// or a livelock and is reported, not run forever.
    static let eventsPerTickMax = 200
    /// Violations kept per run; later ones are counted in the first's message.
    static let violationsMax = 50
    /// Redirects a request follows before waiting a little and retrying elsewhere.
    static let redirectsMax = 3
    /// ReadIndex requests a node tracks, and reads it holds waiting for its state machine,
    /// before forgetting the oldest (their clients timed out).
    static let readRequestsPendingMax = 256
    /// Events a node handles between two `RaftNode.checkInvariants()` calls.
    static let invariantCheckIntervalEvents = 16
    static let invariantChecksEnabled = true

    let seed: UInt64
    let options: SimulationOptions
    let parameters: SimulationParameters
    let raftConfig: RaftConfig
    let tickMicros = SimulationOptions.tickMicros
    var random: SimRandom
    var queue = EventQueue<SimulationEvent>(countMax: 1_000_000)
    var nowMicros: UInt64 = 0
    var network: SimNetwork
    var nodes: [SimulatedNode] = []
    var initialVoters: [NodeID] = []
    var clients: [SimulatedClient] = []
    var history = History()
    var safety = RaftSafetyChecker()
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
    var snapshotsTaken = 0
    var snapshotsInstalled = 0
    var transfersAccepted = 0
    /// Times a leader's commit index landed on an entry of an earlier term (a code probe).
    var previousTermCommitPoints = 0
    /// Nodes that joined as learners and were later seen as voters.
    var promotedNodes: [NodeID] = []
    var operationsSucceeded = 0
    var operationsIndeterminate = 0
    /// Identities (`KeyValueStateMachine.writeIdentity`) of writes acknowledged to clients,
    /// with a description for the report.
    var acknowledgedWrites: [(identity: UInt64, summary: String)] = []
    var linearizabilityVerdict = "skipped"

    init(seed: UInt64, options: SimulationOptions) {
        self.seed = seed
        self.options = options
        var random = SimRandom(seed: seed)
        let parameters = SimulationParameters(options: options, random: &random)
        self.parameters = parameters
        var config = RaftConfig()
        config.electionTimeoutTicksMin = parameters.electionTimeoutTicksMin
        config.electionTimeoutTicksMax = parameters.electionTimeoutTicksMax
        config.heartbeatIntervalTicks = parameters.heartbeatIntervalTicks
        config.preVote = parameters.preVote
        config.checkQuorum = parameters.checkQuorum
        config.commitMode = parameters.commitMode
        config.entriesPerMessageMax = parameters.entriesPerMessageMax
        config.leaseClockDriftBoundTicks = parameters.leaseClockDriftBoundTicks
        config.faults = options.brokenVariant?.raftFaults ?? []
        self.raftConfig = config
        self.network = SimNetwork(conditions: parameters.network)
        self.random = random
        setUpWorld()
    }

    private func setUpWorld() {
        let total = parameters.nodeCount + parameters.spareNodeCount
        initialVoters = (1...parameters.nodeCount).map { NodeID(UInt64($0)) }
        for index in 0..<total {
            let driftMax = parameters.clockDriftPartsPerMillionMax
            let drift = random.integer(in: -driftMax...driftMax)
            let period = Int(tickMicros) * (1_000_000 + drift) / 1_000_000
            nodes.append(
                SimulatedNode(
                    id: NodeID(UInt64(index + 1)), tickMicros: UInt64(period),
                    isMember: index < parameters.nodeCount))
        }
        for index in 0..<parameters.nodeCount {
            start(index, bootstrap: RaftMembership(voters: initialVoters))
        }
        for client in 0..<parameters.clientCount {
            clients.append(
                SimulatedClient(
                    clientID: UInt64(client + 1), process: newProcess(),
                    target: random.integer(in: 0...(parameters.nodeCount - 1))))
            schedule(.clientIssue(client: client), afterMicros: thinkMicros())
        }
        let faults = parameters.faults
        if faults.contains(.partition) || faults.contains(.crash) || faults.contains(.clock) {
            schedule(.nemesis, afterMicros: nemesisDelayMicros())
        }
        if parameters.membershipChanges || parameters.leadershipTransfers {
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
        case .raftMessage(let message):
            handleRaftMessage(message)
        case .fsyncCompleted(let node, let incarnation, let token):
            handleFsyncCompleted(node, incarnation: incarnation, token: token)
        case .clientRequest(let node, let request):
            handleClientRequest(node, request)
        case .clientReply(let client, let sequence, let reply):
            handleClientReply(client, sequence: sequence, reply)
        case .clientTimeout(let client, let sequence):
            handleClientTimeout(client, sequence: sequence)
        case .clientIssue(let client):
            issue(client)
        case .clientResend(let client, let sequence):
            handleClientResend(client, sequence: sequence)
        case .nemesis:
            handleNemesis()
        case .healPartition(let generation):
            hasher.combine(generation)
            if generation == partitionGeneration { network.partition = .none }
        case .restart(let node):
            hasher.combine(node)
            if !nodes[node].isUp && nodes[node].isMember {
                start(node, bootstrap: nodes[node].bootstrapMembership)
                afterEvent(node)
            }
        case .crashNow(let crashed, let downMicrosMax):
            if faultsActive {
                crash(crashed, downMicrosMax: downMicrosMax)
            }
        case .operatorAction:
            handleOperatorAction()
        case .startLiveness:
            startLiveness()
        case .livenessDeadline:
            if !livenessReached {
                record(
                    .liveness,
                    "no new write committed within \(options.livenessTicksMax) ticks after "
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
            return "\(node.id)@\(raft.term)"
        }
        return leaders.isEmpty ? "none" : leaders.joined(separator: ",")
    }

    private func startLiveness() {
        faultsActive = false
        livenessStartMicros = nowMicros
        partitionGeneration += 1
        network.partition = .none
        network.conditions.dropProbability = 0
        network.conditions.duplicateProbability = 0
        for index in nodes.indices where nodes[index].isMember && !nodes[index].isUp {
            start(index, bootstrap: nodes[index].bootstrapMembership)
            afterEvent(index)
        }
        for index in nodes.indices { nodes[index].stallTicks = 0 }
        schedule(.livenessDeadline, afterMicros: ticks(options.livenessTicksMax))
    }
}
