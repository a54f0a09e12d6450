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
