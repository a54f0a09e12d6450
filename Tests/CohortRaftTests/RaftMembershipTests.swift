import CohortCore
import Testing

@testable import CohortRaft

@Suite("Raft membership: learners, witnesses, single-server changes")
struct RaftMembershipTests {
    @Test("thesis §4.2.1: a node added as voter catches up as a learner and is then promoted")
    func learnerPromotedWhenCaughtUp() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()!
        for number in 0..<30 { _ = cluster.propose(leader.rawValue, "e\(number)") }
        let newcomer = NodeID(4)
        cluster.addNode(newcomer, membership: .empty)
        let result = cluster.nodes[leader]!.proposeMembershipChange(.addVoter(newcomer))
        guard case .appended = result else {
            Issue.record("change refused: \(result)")
            return
        }
        // While it is a learner it does not count: a second change must wait.
        #expect(
            cluster.nodes[leader]!.proposeMembershipChange(.addLearner(NodeID(5)))
                == .rejected(.membershipChangeInProgress))
        cluster.tick(20)
        #expect(cluster.nodes[leader]!.membership.voters.contains(newcomer))
        #expect(cluster.nodes[newcomer]!.membership.voters.contains(newcomer))
        #expect(cluster.appliedTexts(4) == (0..<30).map { "e\($0)" })
        #expect(cluster.nodes[leader]!.membership.quorum == 3)
    }

    @Test("a learner receives the log but its vote and acknowledgement count for nothing")
    func learnerDoesNotCount() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()!
        cluster.addNode(NodeID(4), membership: .empty)
        guard
            case .appended = cluster.nodes[leader]!.proposeMembershipChange(.addLearner(NodeID(4)))
        else {
            Issue.record("change refused")
            return
        }
        cluster.tick(5)
        #expect(cluster.nodes[leader]!.membership.learners == [NodeID(4)])
        // Cut both other voters off: the learner's acknowledgements cannot commit anything.
        for id in cluster.ids where id != leader && id != NodeID(4) { cluster.isolate(id.rawValue) }
        let commitBefore = cluster.nodes[leader]!.commitIndex
        _ = cluster.propose(leader.rawValue, "x")
        #expect(cluster.nodes[NodeID(4)]!.lastIndex == cluster.nodes[leader]!.lastIndex)
        #expect(cluster.nodes[leader]!.commitIndex == commitBefore)
        #expect(!cluster.nodes[NodeID(4)]!.isPromotable)
    }

    @Test("a witness keeps metadata only, votes, and never leads")
    func witnessMetadataOnly() {
        var cluster = TestCluster(voters: 2, witnesses: [3])
        let witness = NodeID(3)
        cluster.campaign(1)
        #expect(cluster.node(1).isLeader)
        _ = cluster.propose(1, "data")
        let witnessEntries = cluster.nodes[witness]!.entries
        #expect(witnessEntries.count == cluster.node(1).entries.count)
        #expect(witnessEntries.contains { $0.kind == .normalDataOmitted })
        #expect(
            !witnessEntries.contains {
                if case .normal = $0.kind { return true } else { return false }
            })
        // The witness's vote elects n2 when n1 fails.
        cluster.crash(1)
        cluster.tick(60)
        #expect(cluster.leader == NodeID(2))
        #expect(cluster.appliedTexts(2) == ["data"])
        // With both data voters gone the witness never campaigns.
        cluster.crash(2)
        cluster.tick(100)
        #expect(!cluster.nodes[witness]!.isLeader)
        #expect(cluster.nodes[witness]!.role.kind == .follower)
    }

    @Test(
        "a witness forgets a silent leader after one election timeout, so its vote elects the other voter",
        arguments: 1...20)
    func witnessVotesAfterLeaderDies(seed: UInt64) {
        var cluster = TestCluster(voters: 2, witnesses: [3], seed: seed)
        let witness = NodeID(3)
        cluster.campaign(1)
        _ = cluster.propose(1, "data")
        cluster.crash(1)
        let timeoutMax = RaftConfig().electionTimeoutTicksMax
        // The witness never campaigns, but must stop protecting the dead leader's lease.
        cluster.tick(timeoutMax + 1)
        #expect(cluster.nodes[witness]!.leader != NodeID(1))
        cluster.tick(3 * timeoutMax)
        #expect(cluster.leader == NodeID(2))
        #expect(cluster.appliedTexts(2) == ["data"])
    }

    @Test("thesis §4.2.2: a leader that removes itself steps down once the removal commits")
    func leaderRemovesItself() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()!
        guard case .appended = cluster.nodes[leader]!.proposeMembershipChange(.remove(leader))
        else {
            Issue.record("change refused")
            return
        }
        cluster.stabilize()
        #expect(!cluster.nodes[leader]!.isLeader)
        cluster.down.insert(leader)
        cluster.tick(60)
        let newLeader = cluster.leader
        #expect(newLeader != nil && newLeader != leader)
        #expect(cluster.nodes[newLeader!]!.membership.voters.count == 2)
    }

    @Test("membership changes are validated")
    func invalidChanges() {
        var cluster = TestCluster(voters: 1)
        cluster.campaign(1)
        #expect(
            cluster.nodes[NodeID(1)]!.proposeMembershipChange(.addVoter(NodeID(1)))
                == .rejected(.invalidMembershipChange))
        #expect(
            cluster.nodes[NodeID(1)]!.proposeMembershipChange(.remove(NodeID(1)))
                == .rejected(.invalidMembershipChange))
        #expect(
            cluster.nodes[NodeID(1)]!.proposeMembershipChange(.promoteLearner(NodeID(2)))
                == .rejected(.invalidMembershipChange))
    }
}
