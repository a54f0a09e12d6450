import CohortCore
import Testing

@testable import CohortRaft

@Suite("Raft log repair and commit rules")
struct RaftLogTests {
    @Test("a lagging follower catches up in bounded batches with bounded pipelining")
    func followerCatchUp() {
        var config = RaftConfig()
        config.entriesPerMessageMax = 4
        config.inflightMessagesMax = 2
        var cluster = TestCluster(voters: 3, config: config)
        let leader = cluster.electLeader()!
        let lagging = cluster.ids.first { $0 != leader }!
        cluster.isolate(lagging.rawValue)
        for number in 0..<40 { _ = cluster.propose(leader.rawValue, "e\(number)") }
        cluster.heal()
        cluster.delivered = []
        cluster.tick(30)
        #expect(cluster.appliedTexts(lagging.rawValue) == (0..<40).map { "e\($0)" })
        let appends = cluster.delivered.compactMap { message -> RaftAppendEntriesRequest? in
            guard message.to == lagging, case .appendEntriesRequest(let request) = message.body
            else { return nil }
            return request
        }
        #expect(appends.allSatisfy { $0.entries.count <= 4 })
        #expect(appends.filter { !$0.entries.isEmpty }.count >= 10)
    }

    @Test("Raft §5.3, Figure 7: a deposed leader's uncommitted entries are overwritten")
    func conflictingEntriesTruncated() {
        var cluster = TestCluster(voters: 3)
        let oldLeader = cluster.electLeader()!
        cluster.isolate(oldLeader.rawValue)
        for text in ["lost1", "lost2", "lost3"] { _ = cluster.propose(oldLeader.rawValue, text) }
        #expect(cluster.nodes[oldLeader]!.lastIndex == LogIndex(4))
        cluster.tick(40)
        let newLeader = cluster.leader!
        #expect(newLeader != oldLeader)
        _ = cluster.propose(newLeader.rawValue, "kept")
        cluster.heal()
        cluster.tick(20)
        let logTerms = cluster.ids.map { id in cluster.nodes[id]!.entries.map(\.term) }
        #expect(Set(logTerms).count == 1, "logs differ: \(logTerms)")
        #expect(cluster.appliedTexts(oldLeader.rawValue) == ["kept"])
        #expect(
            !cluster.nodes[oldLeader]!.entries.contains { entry in
                entry.kind == .normal(Array("lost1".utf8))
            })
    }

    /// Makes n2 leader of a later term while it holds an entry of term 1 that n3 also holds,
    /// and n3 never receives n2's own no-op: the Figure 8 setting.
    static func figure8Setting(faults: RaftFaults) -> TestCluster {
        var config = RaftConfig()
        config.entriesPerMessageMax = 1
        // n3 must vote for n2 at once although it heard from n1 just now.
        config.checkQuorum = false
        config.preVote = false
        var cluster = TestCluster(voters: 3, config: config)
        cluster.campaign(1)
        let n1 = NodeID(1)
        let n2 = NodeID(2)
        let n3 = NodeID(3)
        // n1's append of "old" reaches n2 and n3, but their answers are lost: "old" stays
        // uncommitted.
        cluster.cutLinks = [[n2, n1], [n3, n1]]
        _ = cluster.propose(1, "old")
        cluster.crash(1)
        cluster.heal()
        // n2 is elected; every entry of n2's term is cut out of what reaches n3, so n3 only
        // ever acknowledges "old".
        cluster.intercept = { message in
            guard message.to == n3, case .appendEntriesRequest(var request) = message.body else {
                return message
            }
            request.entries = Array(request.entries.prefix { $0.term <= Term(1) })
            var changed = message
            changed.body = .appendEntriesRequest(request)
            return changed
        }
        var node2Config = config
        node2Config.faults = faults
        cluster.nodes[n2] = RaftNode(
            id: n2, config: node2Config, membership: cluster.membership,
            durableState: cluster.disks[n2]!,
            randomSeed: 5)
        cluster.campaign(2)
        cluster.tick(4)
        return cluster
    }

    @Test(
        "Raft §5.4.2, Figure 8: an entry of an earlier term is not committed by counting replicas")
    func onlyCurrentTermCommitsByCounting() {
        let cluster = Self.figure8Setting(faults: [])
        let n2 = cluster.node(2)
        #expect(n2.isLeader)
        #expect(n2.term > Term(1))
        #expect(n2.term(at: LogIndex(2)) == Term(1))
        #expect(cluster.node(3).term(at: LogIndex(2)) == Term(1))
        #expect(n2.leaderProgress(of: NodeID(3))?.matchIndex == LogIndex(2))
        #expect(n2.commitIndex == LogIndex(1))
    }

    @Test("fault commitPreviousTermByCounting commits the earlier-term entry (Figure 8 hazard)")
    func faultCommitsPreviousTerm() {
        let cluster = Self.figure8Setting(faults: [.commitPreviousTermByCounting])
        let n2 = cluster.node(2)
        #expect(n2.isLeader)
        #expect(n2.commitIndex == LogIndex(2))
        #expect(n2.term(at: LogIndex(2)) == Term(1))
    }

    @Test("commit mode .all waits for every voter")
    func commitAllWaitsForEveryVoter() {
        var config = RaftConfig()
        config.commitMode = .all
        var cluster = TestCluster(voters: 3, config: config)
        let leader = cluster.electLeader()!
        let slow = cluster.ids.first { $0 != leader }!
        cluster.isolate(slow.rawValue)
        guard case .appended(let index, _) = cluster.propose(leader.rawValue, "x") else {
            Issue.record("proposal refused")
            return
        }
        cluster.tick(3)
        #expect(cluster.nodes[leader]!.commitIndex < index)
        cluster.heal()
        cluster.tick(5)
        #expect(cluster.nodes[leader]!.commitIndex >= index)
        #expect(cluster.appliedTexts(leader.rawValue) == ["x"])
    }

    @Test("commit mode .majority commits without the slowest voter")
    func commitMajorityDoesNotWait() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()!
        let slow = cluster.ids.first { $0 != leader }!
        cluster.isolate(slow.rawValue)
        guard case .appended(let index, _) = cluster.propose(leader.rawValue, "x") else {
            Issue.record("proposal refused")
            return
        }
        #expect(cluster.nodes[leader]!.commitIndex >= index)
    }
}
