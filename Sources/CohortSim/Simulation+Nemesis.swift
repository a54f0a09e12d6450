import CohortCore
import CohortRaft

/// The nemesis (partitions, crashes, clock stalls) and the operator (membership changes,
/// leadership transfers), both active only in the safety phase.
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
            default: stallClock()
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
            if options.traceLinesMax > 0 { trace("crash \(nodes[index].id)") }
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

    /// The up node that leads the highest term, if any.
    func leaderIndex() -> Int? {
        var best: Int?
        for index in nodes.indices {
            guard let raft = nodes[index].raft, raft.isLeader else { continue }
            if best == nil || raft.term > nodes[best!].raft!.term { best = index }
        }
        return best
    }

    func handleOperatorAction() {
        guard faultsActive else { return }
        schedule(.operatorAction, afterMicros: ticks(random.integer(in: 30...250)))
        guard let leader = leaderIndex() else { return }
        notePromotions(leader: leader)
        retireRemovedNodes(leader: leader)
        if parameters.membershipChanges && random.chance(0.7) {
            changeMembership(leader: leader)
        } else if parameters.leadershipTransfers {
            transferLeadership(leader: leader)
        }
        drive(leader)
        afterEvent(leader)
    }

    /// Records nodes added after the start that the leader now counts as voters: learners
    /// that were promoted (explicitly, or automatically after `addVoter`).
    private func notePromotions(leader: Int) {
        guard let raft = nodes[leader].raft, raft.membershipIndex <= raft.commitIndex else {
            return
        }
        for voter in raft.membership.voters
        where !initialVoters.contains(voter) && !promotedNodes.contains(voter) {
            promotedNodes.append(voter)
        }
    }

    /// Stops running nodes that the leader's committed membership no longer includes; they
    /// are retired for good.
    private func retireRemovedNodes(leader: Int) {
        guard let raft = nodes[leader].raft, raft.membershipIndex <= raft.commitIndex else {
            return
        }
        let members = raft.membership.allMembers
        for index in nodes.indices where nodes[index].isMember && !members.contains(nodes[index].id)
        {
            nodes[index].isMember = false
            nodes[index].isRetired = true
            crash(index)
            if options.traceLinesMax > 0 { trace("retire \(nodes[index].id)") }
        }
    }

    private func changeMembership(leader: Int) {
        guard let raft = nodes[leader].raft else { return }
        let membership = raft.membership
        var changes: [RaftMembershipChange] = []
        let spares = nodes.indices.filter {
            !nodes[$0].isMember && !nodes[$0].isRetired && !nodes[$0].isUp
                && !membership.contains(nodes[$0].id)
        }
        if let spare = spares.first {
            changes.append(.addLearner(nodes[spare].id))
            changes.append(.addVoter(nodes[spare].id))
        }
        for learner in membership.learners
        where !membership.learnersAwaitingPromotion.contains(learner) {
            changes.append(.promoteLearner(learner))
        }
        if membership.voters.count > 3 {
            for voter in membership.voters { changes.append(.remove(voter)) }
        }
        guard !changes.isEmpty else { return }
        let change = random.element(of: changes)
        switch change {
        case .addLearner(let node), .addVoter(let node):
            // A new node starts empty and learns the membership from the leader.
            let index = Int(node.rawValue) - 1
            nodes[index].isMember = true
            nodes[index].disk = SimDisk(image: RaftDiskImage())
            start(index, bootstrap: .empty)
        default:
            break
        }
        if case .appended = nodes[leader].raft!.proposeMembershipChange(change) {
            membershipChangesAccepted += 1
            if options.traceLinesMax > 0 { trace("membership \(change) accepted") }
        }
    }

    private func transferLeadership(leader: Int) {
        guard let raft = nodes[leader].raft else { return }
        let others = raft.membership.voters.filter { $0 != raft.id }
        guard !others.isEmpty else { return }
        let target = random.element(of: others)
        if case .accepted = nodes[leader].raft!.transferLeadership(to: target) {
            transfersAccepted += 1
            if options.traceLinesMax > 0 { trace("transfer \(raft.id) -> \(target) accepted") }
        }
    }
}
