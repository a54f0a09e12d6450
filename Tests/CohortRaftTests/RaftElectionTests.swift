import CohortCore
import Testing

@testable import CohortRaft

@Suite("Raft elections")
struct RaftElectionTests {
    @Test("Raft §5.2: exactly one leader is elected and all agree on it")
    func singleLeaderElected() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()
        #expect(leader != nil)
        #expect(cluster.leaders.count == 1)
        let term = cluster.nodes[leader!]!.term
        for id in cluster.ids {
            #expect(cluster.nodes[id]!.term == term)
            #expect(cluster.nodes[id]!.leader == leader)
        }
        // The no-op of the new term commits everywhere.
        for id in cluster.ids {
            #expect(cluster.nodes[id]!.commitIndex == LogIndex(1))
        }
    }

    @Test("a single-node group elects itself and commits alone")
    func singleNode() {
        var cluster = TestCluster(voters: 1)
        cluster.campaign(1)
        #expect(cluster.node(1).isLeader)
        _ = cluster.propose(1, "x")
        #expect(cluster.appliedTexts(1) == ["x"])
    }
}

@Suite("Raft leader failure, pre-vote and check-quorum")
struct RaftLeaderFailureTests {
    @Test("Raft §5.2: a new leader is elected after the leader is cut off")
    func reelectionAfterIsolation() {
        var cluster = TestCluster(voters: 3)
        let first = cluster.electLeader()!
        let firstTerm = cluster.nodes[first]!.term
        cluster.isolate(first.rawValue)
        cluster.tick(60)
        let others = cluster.ids.filter { $0 != first }
        let newLeaders = others.filter { cluster.nodes[$0]!.isLeader }
        #expect(newLeaders.count == 1)
        #expect(cluster.nodes[newLeaders[0]]!.term > firstTerm)
        // Check-quorum made the old leader step down on its own.
        #expect(!cluster.nodes[first]!.isLeader)
        cluster.heal()
        cluster.tick(10)
        #expect(cluster.leaders == newLeaders)
    }

    @Test("thesis §6.2: check-quorum makes a cut-off leader step down within two election timeouts")
    func checkQuorumStepDown() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()!
        cluster.isolate(leader.rawValue)
        let timeout = cluster.config.electionTimeoutTicksMin
        for id in cluster.ids where id != leader { cluster.down.insert(id) }
        cluster.tick(2 * timeout)
        #expect(!cluster.nodes[leader]!.isLeader)
    }

    @Test(
        "thesis §9.6: with pre-vote a node rejoining from a partition does not disturb the leader")
    func preVotePreventsDisruption() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()!
        let term = cluster.nodes[leader]!.term
        let loner = cluster.ids.first { $0 != leader }!
        cluster.isolate(loner.rawValue)
        cluster.tick(100)
        // Pre-votes fail, so the loner never raised its term.
        #expect(cluster.nodes[loner]!.term == term)
        cluster.heal()
        cluster.tick(20)
        #expect(cluster.leader == leader)
        #expect(cluster.nodes[leader]!.term == term)
        #expect(cluster.nodes[loner]!.leader == leader)
    }

    @Test("without pre-vote the same partition raises the term and deposes the leader")
    func withoutPreVoteTheLeaderIsDisrupted() {
        var config = RaftConfig()
        config.preVote = false
        var cluster = TestCluster(voters: 3, config: config)
        let leader = cluster.electLeader()!
        let term = cluster.nodes[leader]!.term
        let loner = cluster.ids.first { $0 != leader }!
        cluster.isolate(loner.rawValue)
        cluster.tick(100)
        #expect(cluster.nodes[loner]!.term > term)
        cluster.heal()
        cluster.tick(60)
        #expect(cluster.nodes[cluster.electLeader()!]!.term > term)
    }

    @Test("a candidate with a stale log is refused (Raft §5.4.1)")
    func staleLogLosesElection() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()!
        let lagging = cluster.ids.first { $0 != leader }!
        cluster.isolate(lagging.rawValue)
        _ = cluster.propose(leader.rawValue, "x")
        cluster.heal()
        // Cut the leader off so the lagging node tries to win against the up-to-date one.
        cluster.isolate(leader.rawValue)
        cluster.down.insert(leader)
        cluster.tick(80)
        let winner = cluster.leader
        #expect(winner != nil && winner != lagging)
    }
}
