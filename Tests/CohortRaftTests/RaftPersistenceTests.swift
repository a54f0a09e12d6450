import CohortCore
import Testing

@testable import CohortRaft

@Suite("Raft persistence rule")
struct RaftPersistenceTests {
    /// Replays each node's readies in order and checks that every message that depends on
    /// durable state was covered by what that ready (or an earlier one) persisted.
    @Test(
        "Raft Figure 2: no vote or acknowledgement leaves before the state it depends on is durable"
    )
    func messagesFollowPersistence() {
        var cluster = TestCluster(voters: 3)
        let leader = cluster.electLeader()!
        for number in 0..<5 { _ = cluster.propose(leader.rawValue, "e\(number)") }
        cluster.isolate(leader.rawValue)
        cluster.tick(60)
        cluster.heal()
        cluster.tick(20)
        var votesChecked = 0
        var acknowledgementsChecked = 0
        for id in cluster.ids {
            var hardState = RaftHardState.initial
            var durableLog: [LogIndex: Term] = [:]
            for ready in cluster.readies[id, default: []] {
                if let first = ready.entriesToAppend.first {
                    durableLog = durableLog.filter { $0.key < first.index }
                }
                for entry in ready.entriesToAppend { durableLog[entry.index] = entry.term }
                if let persisted = ready.hardState { hardState = persisted }
                for message in ready.messages {
                    #expect(message.term <= hardState.term || message.isGrantedPreVote)
                    switch message.body {
                    case .voteResponse(isPreVote: false, granted: true):
                        #expect(hardState.term == message.term && hardState.votedFor == message.to)
                        votesChecked += 1
                    case .appendEntriesResponse(.accepted(let matchIndex)):
                        if matchIndex > .zero {
                            #expect(durableLog[matchIndex] != nil)
                        }
                        acknowledgementsChecked += 1
                    case .voteRequest(let request) where !request.isPreVote:
                        #expect(hardState.votedFor == id && hardState.term == message.term)
                    default:
                        break
                    }
                }
            }
        }
        #expect(votesChecked >= 2)
        #expect(acknowledgementsChecked >= 10)
    }

    @Test("the leader counts its own entries toward commit only once they are durable")
    func leaderCountsOnlyDurableEntries() {
        var cluster = TestCluster(voters: 1)
        cluster.campaign(1)
        var node = cluster.nodes[NodeID(1)]!
        guard case .appended(let index, _) = node.propose([1, 2, 3]) else {
            Issue.record("proposal refused")
            return
        }
        #expect(node.commitIndex < index)
        let ready = node.ready()
        #expect(ready.entriesToAppend.map(\.index) == [index])
        #expect(node.commitIndex < index)
        node.advance(ready)
        #expect(node.commitIndex == index)
        let next = node.ready()
        #expect(next.committedEntries.map(\.index) == [index])
        #expect(next.hardState?.commitIndex == index)
    }

    @Test("a leader's entries whose fsync is still running commit through the followers only")
    func leaderEntriesDurableLater() {
        var cluster = TestCluster(voters: 3)
        guard let leader = cluster.electLeader() else {
            Issue.record("no leader")
            return
        }
        cluster.stabilize()
        var node = cluster.nodes[leader]!
        guard case .appended(let index, let term) = node.propose([7]) else {
            Issue.record("proposal refused")
            return
        }
        let ready = node.ready()
        #expect(ready.entriesToAppend.map(\.index) == [index])
        node.advance(ready, entriesDurable: false)
        #expect(node.stableIndex < index)
        cluster.nodes[leader] = node
        cluster.persist(ready, on: leader)
        cluster.network.append(contentsOf: ready.messages)
        cluster.stabilize()
        // Both followers have it durably: committed, but the leader does not apply what its
        // own disk may not hold yet.
        #expect(cluster.nodes[leader]!.commitIndex == index)
        #expect(!cluster.appliedEntries[leader, default: []].contains { $0.index == index })
        // News about a rewritten entry (another term) changes nothing.
        cluster.nodes[leader]!.entriesBecameDurable(through: index, term: Term(term.rawValue + 1))
        #expect(cluster.nodes[leader]!.stableIndex < index)
        #expect(!cluster.nodes[leader]!.hasReady)
        cluster.nodes[leader]!.entriesBecameDurable(through: index, term: term)
        #expect(cluster.nodes[leader]!.stableIndex == index)
        cluster.stabilize()
        #expect(cluster.appliedEntries[leader, default: []].contains { $0.index == index })
    }

    @Test("a lone leader commits nothing before its own fsync finishes")
    func loneLeaderWaitsForItsFsync() {
        var cluster = TestCluster(voters: 1)
        cluster.campaign(1)
        var node = cluster.nodes[NodeID(1)]!
        guard case .appended(let index, let term) = node.propose([1]) else {
            Issue.record("proposal refused")
            return
        }
        node.advance(node.ready(), entriesDurable: false)
        #expect(node.commitIndex < index)
        node.entriesBecameDurable(through: index, term: term)
        #expect(node.commitIndex == index)
        #expect(node.ready().committedEntries.map(\.index) == [index])
    }
}

extension RaftMessage {
    /// Granted pre-votes carry the candidate's future term, which nobody persisted.
    var isGrantedPreVote: Bool {
        if case .voteResponse(isPreVote: true, granted: true) = body { return true }
        if case .voteRequest(let request) = body, request.isPreVote { return true }
        return false
    }
}
