import CohortCheck
import CohortCore
import CohortNode
import CohortRaft
import CohortReplication

/// Starting, crashing and stepping the simulated nodes, and carrying their frames.
extension Simulation {
    /// Starts (or restarts) node `index` from whatever its disk holds durably.
    func start(_ index: Int) {
        do {
            try nodes[index].start(
                founders: founders, parameters: parameters, faults: options.brokenVariant)
        } catch {
            // The production node refuses to start on a damaged disk: a loss of what it had
            // acknowledged would follow if it did. In simulation that is a finding.
            record(.stateMachine, "\(nodes[index].name) cannot restart: \(error)")
            return
        }
        safety.nodeRestarted(nodes[index].id)
        keyspaceSafety.nodeRestarted(nodes[index].id)
        let firstTick = random.integer(in: UInt64(1)...nodes[index].tickMicros)
        schedule(
            .tick(node: index, incarnation: nodes[index].incarnation), afterMicros: firstTick)
    }

    /// Crashes node `index`: its volatile state is gone, and its disk keeps only what was
    /// synced (plus, sometimes, an ordered prefix of the rest with a torn tail).
    func crash(_ index: Int) {
        guard nodes[index].isUp else { return }
        nodes[index].crash(
            random: &random,
            keepsUnsyncedPrefixProbability: parameters.keepsUnsyncedPrefixProbability)
        hasher.combine(index)
    }

    func handleTick(_ index: Int, incarnation: Int) {
        guard nodes[index].incarnation == incarnation, nodes[index].isUp else { return }
        nodes[index].tick()
        var next = nodes[index].tickMicros
        if nodes[index].stallTicks > 0 {
            next += ticks(nodes[index].stallTicks)
            nodes[index].stallTicks = 0
        }
        if buggify(.slowTick) { next += ticks(random.integer(in: 1...5)) }
        schedule(.tick(node: index, incarnation: incarnation), afterMicros: next)
        afterEvent(index)
    }

    /// A node hands a frame to the network.
    func transmit(_ frame: PeerFrame, from: NodeID, to: NodeID) {
        let arrivals = network.arrivalTimes(
            from: from, to: to, nowMicros: nowMicros, random: &random)
        for arrival in arrivals {
            queue.schedule(.frame(from: from, to: to, frame), atMicros: arrival)
        }
    }

    func handleFrame(from: NodeID, to: NodeID, _ frame: PeerFrame) {
        hasher.combine(from.rawValue)
        hasher.combine(to.rawValue)
        guard let index = nodes.firstIndex(where: { $0.id == to }), nodes[index].isUp else {
            return
        }
        guard network.allows(from: from, to: to) else {
            network.recordPartitionDrop()
            return
        }
        let node = nodes[index]
        switch frame {
        case .raft(let group, let bytes):
            guard let message = try? RaftMessageCodec.decode(bytes) else {
                return record(.raftSafety, "\(node.name) got an undecodable Raft frame")
            }
            hasher.combine(message.term.rawValue)
            // A group not running here drops its messages (Raft retransmits), as production.
            guard let runtime = node.runtime(of: group) else { return }
            runtime.receive(message)
            runtime.pump()
        case .forward(let group, let bytes):
            if ForwardMessage.isProxy(bytes) {
                // The node's shell, not a group, takes proxy frames.
                let time = node.now()
                node.withShell {
                    $0.receiveProxyFrame(bytes, group: group, from: from, now: time)
                }
            } else if let runtime = node.runtime(of: group) {
                runtime.receiveForward(bytes, from: from)
                runtime.pump()
            }
        }
        afterEvent(index)
    }

    /// Schedules the end of work node `index` handed off its thread.
    func scheduleOffload(node index: Int, incarnation: Int, job: UInt64, kind: OffloadKind) {
        var delay: UInt64
        switch kind {
        case .logSync:
            delay = random.integer(in: parameters.fsyncMicrosMin...parameters.fsyncMicrosMax)
            if buggify(.slowSync) { delay += ticks(random.integer(in: 1...20)) }
        case .snapshot:
            delay = random.integer(in: UInt64(1_000)...UInt64(30_000))
        }
        schedule(.offload(node: index, incarnation: incarnation, job: job), afterMicros: delay)
    }
}
