import CohortCore
import Testing

@testable import CohortRaft

/// Each deliberate bug must really break a Raft safety property, or the simulator's ability to
/// catch it proves nothing.
@Suite("Raft deliberate faults break safety")
struct RaftFaultTests {
    static func plainConfig() -> RaftConfig {
        var config = RaftConfig()
        config.preVote = false
        config.checkQuorum = false
        return config
    }

    /// n1 and n2 cannot reach each other; both campaign in term 1 and ask n3.
    static func splitVoteCluster(faultsOnNode3: RaftFaults) -> TestCluster {
        var cluster = TestCluster(voters: 3, config: plainConfig())
        var faulty = plainConfig()
        faulty.faults = faultsOnNode3
        cluster.nodes[NodeID(3)] = RaftNode(
            id: NodeID(3), config: faulty, membership: cluster.membership, randomSeed: 3)
        cluster.cutLinks = [[NodeID(1), NodeID(2)], [NodeID(2), NodeID(1)]]
        // n1's entries never reach n3, so n2's empty log stays as up to date as n3's.
        cluster.intercept = { message in
            if case .appendEntriesRequest = message.body, message.to == NodeID(3) { return nil }
            return message
        }
        cluster.campaign(1)
        cluster.campaign(2)
        return cluster
    }

    @Test("correct: one vote per term gives one leader per term (Raft §5.2)")
    func oneVotePerTerm() {
        let cluster = Self.splitVoteCluster(faultsOnNode3: [])
        #expect(cluster.node(1).isLeader)
        #expect(!cluster.node(2).isLeader)
    }

    @Test("fault grantMultipleVotesPerTerm: two leaders in one term")
    func multipleVotesElectTwoLeaders() {
        let cluster = Self.splitVoteCluster(faultsOnNode3: [.grantMultipleVotesPerTerm])
        #expect(cluster.node(1).isLeader && cluster.node(2).isLeader)
        #expect(cluster.node(1).term == cluster.node(2).term)
    }

    /// n3 votes for n1 in term 1, crashes and restarts; then n2 asks for its vote in term 1.
    static func revoteCluster(faultsOnNode3: RaftFaults) -> TestCluster {
        var cluster = TestCluster(voters: 3, config: plainConfig())
        var faulty = plainConfig()
        faulty.faults = faultsOnNode3
        cluster.nodes[NodeID(3)] = RaftNode(
            id: NodeID(3), config: faulty, membership: cluster.membership, randomSeed: 3)
        cluster.cutLinks = [[NodeID(1), NodeID(2)], [NodeID(2), NodeID(1)]]
        // n1's entries never reach n3, so n2's empty log stays as up to date as n3's.
        cluster.intercept = { message in
            if case .appendEntriesRequest = message.body, message.to == NodeID(3) { return nil }
            return message
        }
        cluster.campaign(1)
        cluster.crash(3)
        cluster.nodes[NodeID(3)] = RaftNode(
            id: NodeID(3), config: faulty, membership: cluster.membership,
            durableState: cluster.disks[NodeID(3)]!, randomSeed: 4)
        cluster.down.remove(NodeID(3))
        cluster.campaign(2)
        return cluster
    }

    @Test("correct: a restarted node remembers its vote (Raft Figure 2 persistence)")
    func voteSurvivesRestart() {
        let cluster = Self.revoteCluster(faultsOnNode3: [])
        #expect(cluster.node(1).isLeader)
        #expect(!cluster.node(2).isLeader)
        #expect(cluster.node(3).votedFor == NodeID(1))
    }

    @Test("fault voteNotPersisted: a restarted node votes again and two leaders share a term")
    func unpersistedVoteElectsTwoLeaders() {
        let cluster = Self.revoteCluster(faultsOnNode3: [.voteNotPersisted])
        #expect(cluster.node(1).isLeader && cluster.node(2).isLeader)
        #expect(cluster.node(1).term == cluster.node(2).term)
    }

    /// n1 leads term 1 and is cut off with an uncommitted entry; n2 leads term 2 and commits
    /// its no-op with n3, but n3 never hears of that commit; then n1's stale appends reach n3.
    static func staleLeaderCluster(faultsOnNode3: RaftFaults) -> TestCluster {
        var cluster = TestCluster(voters: 3, config: plainConfig())
        var faulty = plainConfig()
        faulty.faults = faultsOnNode3
        cluster.nodes[NodeID(3)] = RaftNode(
            id: NodeID(3), config: faulty, membership: cluster.membership, randomSeed: 3)
        cluster.campaign(1)
        cluster.isolate(1)
        _ = cluster.propose(1, "stale")
        cluster.intercept = { message in
            // n3 must not learn that n2 committed index 2.
            guard message.from == NodeID(2), message.to == NodeID(3) else { return message }
            switch message.body {
            case .appendEntriesRequest(let request) where request.leaderCommit >= LogIndex(2):
                return nil
            case .heartbeatRequest(let commit, _) where commit >= LogIndex(2): return nil
            default: return message
            }
        }
        cluster.campaign(2)
        // Now let n1's messages reach n3 only; n1 still believes it leads term 1.
        cluster.cutLinks = [
            [NodeID(1), NodeID(2)], [NodeID(2), NodeID(1)], [NodeID(3), NodeID(1)],
        ]
        _ = cluster.nodes[NodeID(1)]!.propose(Array("stale2".utf8))
        cluster.stabilize()
        cluster.cutLinks.remove([NodeID(3), NodeID(1)])
        for _ in 0..<3 {
            _ = cluster.nodes[NodeID(1)]!.propose(Array("more".utf8))
            cluster.stabilize()
        }
        return cluster
    }

    @Test("correct: a deposed leader's appends are refused (Raft §5.1 terms as fencing)")
    func staleTermRejected() {
        let cluster = Self.staleLeaderCluster(faultsOnNode3: [])
        let n2 = cluster.node(2)
        #expect(n2.commitIndex >= LogIndex(2))
        #expect(cluster.node(3).term(at: LogIndex(2)) == n2.term(at: LogIndex(2)))
        #expect(!cluster.node(1).isLeader)
    }

    @Test("fault skipTermCheck: a deposed leader overwrites an entry committed by the new leader")
    func skippedTermCheckOverwritesCommitted() {
        let cluster = Self.staleLeaderCluster(faultsOnNode3: [.skipTermCheck])
        let n2 = cluster.node(2)
        #expect(n2.commitIndex >= LogIndex(2))
        #expect(n2.term(at: LogIndex(2)) == Term(2))
        // n3 held the committed entry and replaced it with the stale leader's.
        #expect(cluster.node(3).term(at: LogIndex(2)) == Term(1))
    }
}
