import CohortCore
import CohortRaft

/// The nemesis (partitions, crashes, clock stalls and steps) and the operator (nodes added
/// online), both active only in the safety phase.
extension Simulation {
    func handleNemesis() {
        guard faultsActive else { return }
        var actions: [FaultKind] = []
        for kind in [FaultKind.partition, .crash, .clock] where parameters.faults.contains(kind) {
            if kind == .clock && parameters.clockStallTicksMax == 0 { continue }
            actions.append(kind)
        }
        if !actions.isEmpty {
            switch random.element(of: actions) {
            case .partition: partition()
            case .crash: crashSome()
            default: random.chance(0.5) ? stallClock() : stepClock()
            }
        }
        schedule(.nemesis, afterMicros: nemesisDelayMicros())
    }

    private func partition() {
        let members = nodes.filter(\.isMember).map(\.id)
        guard members.count >= 2 else { return }
        let shuffled = random.shuffled(members)
        let choice = random.below(members.count >= 3 ? 3 : 2)
        let cut: NetworkPartition
        switch choice {
        case 0:
            let split = random.integer(in: 1...(shuffled.count - 1))
            cut = .symmetric(groups: [Array(shuffled[..<split]), Array(shuffled[split...])])
        case 1:
            let split = random.integer(in: 1...(shuffled.count - 1))
            cut = .asymmetric(
                senders: Array(shuffled[..<split]), receivers: Array(shuffled[split...]))
        default:
            let bridge = shuffled[0]
            let rest = Array(shuffled.dropFirst())
            let split = random.integer(in: 1...max(1, rest.count - 1))
            cut = .bridge(left: Array(rest[..<split]), right: Array(rest[split...]), bridge: bridge)
        }
        network.partition = cut
        partitionGeneration += 1
        partitions += 1
        hasher.combine(cut.description)
        if options.traceLinesMax > 0 { trace("partition \(cut)") }
        let duration = ticks(random.integer(in: 5...parameters.partitionTicksMax))
        schedule(.healPartition(generation: partitionGeneration), afterMicros: duration)
    }

    private func crashSome() {
        let candidates = nodes.indices.filter { nodes[$0].isUp && nodes[$0].isMember }
        guard !candidates.isEmpty else { return }
        var count = 1
        if candidates.count >= 2 && random.chance(parameters.correlatedCrashProbability) {
            count = random.integer(in: 2...candidates.count)
        }
        var victims = Array(random.shuffled(candidates).prefix(count))
        if count == 1, random.chance(parameters.leaderCrashProbability), let leader = leaderIndex()
        {
            victims = [leader]
        }
        crash(victims, downMicrosMax: ticks(parameters.downTicksMax))
    }

    /// Crashes the given nodes (those still up) and schedules their restarts.
    func crash(_ victims: [Int], downMicrosMax: UInt64) {
        for index in victims where nodes[index].isUp && nodes[index].isMember {
            crash(index)
            crashes += 1
            if options.traceLinesMax > 0 { trace("crash \(nodes[index].name)") }
            let down = random.integer(in: UInt64(100)...max(100, downMicrosMax))
            schedule(.restart(node: index), afterMicros: down)
        }
    }

    /// A crash point in a node's ready: right after it sent a granted vote, crash it with the
    /// seed's crash-point probability, and bring it back before the election is over.
    func crashPointAfterSending(_ index: Int, _ messages: [RaftMessage]) {
        guard faultsActive, parameters.crashPointProbability > 0 else { return }
        let grantsVote = messages.contains {
            if case .voteResponse(isPreVote: false, granted: true) = $0.body { return true }
            return false
        }
        if grantsVote && random.chance(parameters.crashPointProbability) {
            // Usually a fast process restart, so the node is back while the election runs.
            let down = random.chance(0.5) ? 2_000 : ticks(parameters.electionTimeoutTicksMin / 2)
            schedule(.crashNow(nodes: [index], downMicrosMax: down), afterMicros: 0)
        }
    }

    /// A crash point when a node becomes leader: it crashes within a few ticks, before its
    /// first entries spread, which leaves logs diverging (Raft Figure 8's raw material).
    func crashPointAfterElection(_ index: Int) {
        guard faultsActive, parameters.electionCrashPointProbability > 0,
            random.chance(parameters.electionCrashPointProbability)
        else { return }
        let delay = random.integer(in: UInt64(0)...ticks(3))
        schedule(
            .crashNow(nodes: [index], downMicrosMax: ticks(parameters.downTicksMax)),
            afterMicros: delay)
    }

    /// A crash point when a leader's commit index advances: the leader vanishes before the
    /// news of the commit spreads, while followers' logs still differ.
    func crashPointAfterLeaderCommit(_ index: Int) {
        guard faultsActive, parameters.electionCrashPointProbability > 0,
            random.chance(parameters.electionCrashPointProbability / 8)
        else { return }
        schedule(
            .crashNow(nodes: [index], downMicrosMax: ticks(parameters.downTicksMax)),
            afterMicros: 0)
    }

    /// A crash point right after a write is acknowledged: a power loss of every member.
    func crashPointAfterAcknowledgement() {
        guard faultsActive, parameters.crashPointProbability > 0,
            random.chance(parameters.crashPointProbability)
        else { return }
        let members = nodes.indices.filter { nodes[$0].isUp && nodes[$0].isMember }
        schedule(
            .crashNow(nodes: members, downMicrosMax: ticks(parameters.downTicksMax)), afterMicros: 0
        )
    }

    private func stallClock() {
        let candidates = nodes.indices.filter { nodes[$0].isUp }
        guard !candidates.isEmpty else { return }
        let index = random.element(of: candidates)
        nodes[index].stallTicks = random.integer(in: 1...parameters.clockStallTicksMax)
        hasher.combine(index)
    }

    /// Steps one node's wall clock back or forward by up to an hour: deadlines run on the
    /// monotonic clock and must not notice (REVIEW §7 defect 1).
    private func stepClock() {
        let candidates = nodes.indices.filter { nodes[$0].isUp }
        guard !candidates.isEmpty else { return }
        let index = random.element(of: candidates)
        let step = Int64(random.integer(in: -3_600_000...3_600_000))
        nodes[index].wallStepMillis += step
        hasher.combine(index)
        if options.traceLinesMax > 0 { trace("clock of \(nodes[index].name) steps \(step) ms") }
    }

    /// The up node that leads the highest term, if any.
    func leaderIndex() -> Int? {
        var best: Int?
        for index in nodes.indices {
            guard let raft = nodes[index].raft, raft.isLeader else { continue }
            if best == nil || raft.term > nodes[best!].raft!.term { best = index }
        }
        return best
    }

    /// The operator adds a spare node through the cluster's own command (COHORT NODE ADD,
    /// sent to the leader): the spare starts empty, joins, and is seeded from a snapshot or
    /// the log.
    func handleOperatorAction() {
        guard faultsActive else { return }
        schedule(.operatorAction, afterMicros: ticks(random.integer(in: 30...250)))
        guard let leader = leaderIndex(), let runtime = nodes[leader].runtime,
            let spare = nodes.indices.first(where: { !nodes[$0].isMember })
        else { return }
        nodes[spare].isMember = true
        nodes[spare].joins = true
        start(spare)
        let command = ["COHORT", "NODE", "ADD", nodes[spare].name, "sim:1"].map { Array($0.utf8) }
        runtime.submitWrite(command, token: .none, ackMode: .majority) { [unowned self] reply, _ in
            if case .simpleString = reply { membershipChangesAccepted += 1 }
            if options.traceLinesMax > 0 { trace("add \(nodes[spare].name): \(reply)") }
        }
        runtime.pump()
        afterEvent(leader)
    }
}
