import CohortCore
import Testing

@testable import CohortRaft

@Suite("Raft log replication")
struct RaftReplicationTests {
    @Test("Raft §5.3: proposals replicate, commit and apply in order on every node")
    func replicateAndCommit() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()!
        for text in ["a", "b", "c"] {
            guard case .appended = cluster.propose(leader.rawValue, text) else {
                Issue.record("proposal refused")
                return
            }
        }
        cluster.tick(3)
        for id in cluster.ids {
            #expect(cluster.appliedTexts(id.rawValue) == ["a", "b", "c"])
            #expect(cluster.nodes[id]!.commitIndex == LogIndex(4))
        }
    }

    @Test("a follower refuses proposals and names the leader")
    func followerForwards() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()!
        let follower = cluster.ids.first { $0 != leader }!
        #expect(cluster.propose(follower.rawValue, "x") == .notLeader(leader: leader))
    }
}

@Suite("Raft input validation")
struct RaftInputValidationTests {
    @Test("malformed AppendEntries is dropped without a reply or a crash")
    func malformedAppendDropped() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()!
        let follower = cluster.ids.first { $0 != leader }!
        let term = cluster.nodes[leader]!.term
        let lastIndex = cluster.nodes[follower]!.lastIndex
        let gap = RaftAppendEntriesRequest(
            previousLogIndex: lastIndex, previousLogTerm: term,
            entries: [RaftEntry(index: lastIndex + 2, term: term, kind: .noop)], leaderCommit: .zero
        )
        let future = RaftAppendEntriesRequest(
            previousLogIndex: lastIndex, previousLogTerm: term,
            entries: [RaftEntry(index: lastIndex.next, term: term.next, kind: .noop)],
            leaderCommit: .zero)
        for request in [gap, future] {
            cluster.nodes[follower]!.receive(
                RaftMessage(
                    from: leader, to: follower, term: term, body: .appendEntriesRequest(request)))
        }
        #expect(cluster.nodes[follower]!.lastIndex == lastIndex)
        let ready = cluster.nodes[follower]!.ready()
        #expect(ready.messages.isEmpty)
    }
}
