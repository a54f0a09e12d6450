import CohortCore
import Testing

@testable import CohortRaft

@Suite("Raft ReadIndex, leases and leadership transfer")
struct RaftReadAndTransferTests {
    @Test("thesis §6.4: ReadIndex is answered only after a quorum acknowledges a heartbeat")
    func readIndexWaitsForHeartbeatQuorum() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()!
        _ = cluster.propose(leader.rawValue, "x")
        let commit = cluster.nodes[leader]!.commitIndex
        cluster.intercept = { message in
            if case .heartbeatResponse = message.body { return nil }
            return message
        }
        #expect(cluster.nodes[leader]!.readIndex(requestID: 7) == .accepted)
        cluster.stabilize()
        #expect(cluster.readStates[leader, default: []].isEmpty)
        // A heartbeat round went out for the read.
        #expect(
            cluster.delivered.contains {
                if case .heartbeatRequest = $0.body { true } else { false }
            })
        cluster.intercept = nil
        cluster.tick(cluster.config.heartbeatIntervalTicks)
        #expect(cluster.readStates[leader] == [RaftReadState(requestID: 7, index: commit)])
    }

    @Test("a follower forwards ReadIndex to the leader and receives the read state")
    func followerReadIndex() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()!
        _ = cluster.propose(leader.rawValue, "x")
        let follower = cluster.ids.first { $0 != leader }!
        #expect(cluster.nodes[follower]!.readIndex(requestID: 9) == .forwarded(to: leader))
        cluster.stabilize()
        #expect(
            cluster.readStates[follower] == [
                RaftReadState(requestID: 9, index: cluster.nodes[leader]!.commitIndex)
            ])
    }

    @Test("a leader cut off from the quorum never answers ReadIndex")
    func isolatedLeaderDoesNotAnswer() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()!
        cluster.isolate(leader.rawValue)
        _ = cluster.nodes[leader]!.readIndex(requestID: 1)
        cluster.tick(40)
        #expect(cluster.readStates[leader, default: []].isEmpty)
    }

    @Test("with a configured clock-drift bound the leader answers from its lease, without a round")
    func leaseRead() {
        var config = RaftConfig()
        config.leaseClockDriftBoundTicks = 2
        var cluster = TestCluster(voters: 3, config: config)
        let leader = cluster.electLeader()!
        cluster.tick(config.heartbeatIntervalTicks)
        cluster.isolate(leader.rawValue)
        // Cut off, but within the lease: the answer comes without any message.
        #expect(cluster.nodes[leader]!.readIndex(requestID: 3) == .accepted)
        cluster.drainReady(leader)
        #expect(cluster.readStates[leader]?.map(\.requestID) == [3])
        // Once the lease ran out, reads wait for a round that cannot complete.
        cluster.tick(config.electionTimeoutTicksMin)
        _ = cluster.nodes[leader]!.readIndex(requestID: 4)
        cluster.drainReady(leader)
        #expect(cluster.readStates[leader]?.map(\.requestID) == [3])
    }

    @Test("leases are off by default")
    func noLeaseByDefault() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()!
        cluster.tick(2)
        cluster.isolate(leader.rawValue)
        _ = cluster.nodes[leader]!.readIndex(requestID: 3)
        cluster.drainReady(leader)
        #expect(cluster.readStates[leader, default: []].isEmpty)
    }

    @Test("thesis §3.10: leadership moves to the chosen voter via TimeoutNow")
    func leadershipTransfer() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()!
        let term = cluster.nodes[leader]!.term
        let target = cluster.ids.last { $0 != leader }!
        #expect(cluster.nodes[leader]!.transferLeadership(to: target) == .accepted)
        #expect(cluster.nodes[leader]!.propose([1]) == .rejected(.leadershipTransferInProgress))
        cluster.stabilize()
        #expect(cluster.leader == target)
        #expect(cluster.nodes[target]!.term == term.next)
        #expect(cluster.leaders.count == 1)
    }

    @Test("a transfer to a lagging target first brings it up to date")
    func transferToLaggingTarget() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()!
        let target = cluster.ids.last { $0 != leader }!
        cluster.isolate(target.rawValue)
        for number in 0..<5 { _ = cluster.propose(leader.rawValue, "e\(number)") }
        cluster.heal()
        #expect(cluster.nodes[leader]!.transferLeadership(to: target) == .accepted)
        cluster.tick(4)
        #expect(cluster.leader == target)
        #expect(cluster.appliedTexts(target.rawValue).count == 5)
    }

    @Test("transfer targets are validated")
    func invalidTransferTargets() {
        var cluster = TestCluster(voters: 2, witnesses: [3])
        cluster.campaign(1)
        #expect(
            cluster.nodes[NodeID(1)]!.transferLeadership(to: NodeID(1))
                == .rejected(.invalidTransferTarget))
        #expect(
            cluster.nodes[NodeID(1)]!.transferLeadership(to: NodeID(3))
                == .rejected(.invalidTransferTarget))
        #expect(
            cluster.nodes[NodeID(2)]!.transferLeadership(to: NodeID(1))
                == .notLeader(leader: NodeID(1)))
    }
}

@Suite("Raft lease safety")
struct RaftLeaseSafetyTests {
    @Test("with leases on, a restarted follower refuses votes for one election timeout")
    func restartedFollowerHonoursLease() {
        var config = RaftConfig()
        config.leaseClockDriftBoundTicks = 2
        var cluster = TestCluster(voters: 3, config: config)
        let leader = cluster.electLeader()!
        let follower = cluster.ids.first { $0 != leader }!
        let candidate = cluster.ids.last { $0 != leader }!
        cluster.crash(follower.rawValue)
        cluster.restart(follower.rawValue)
        let request = RaftMessage(
            from: candidate, to: follower, term: cluster.nodes[leader]!.term.next,
            body: .voteRequest(
                RaftVoteRequest(
                    isPreVote: false, lastLogIndex: cluster.nodes[leader]!.lastIndex,
                    lastLogTerm: cluster.nodes[leader]!.lastTerm, isLeadershipTransfer: false)))
        let termBefore = cluster.nodes[follower]!.term
        cluster.nodes[follower]!.receive(request)
        #expect(cluster.nodes[follower]!.votedFor != candidate)
        #expect(cluster.nodes[follower]!.term == termBefore)
        let ready = cluster.nodes[follower]!.ready()
        #expect(ready.messages.isEmpty)
        cluster.nodes[follower]!.advance(ready)
        for _ in 0..<config.electionTimeoutTicksMin { cluster.nodes[follower]!.tick() }
        cluster.nodes[follower]!.receive(request)
        #expect(cluster.nodes[follower]!.votedFor == candidate)
    }
}
