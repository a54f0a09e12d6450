import CohortCore
import Testing

@testable import CohortRaft

@Suite("Raft snapshots and log compaction")
struct RaftSnapshotTests {
    @Test(
        "Raft §7: a follower behind the compacted log receives the snapshot in chunks, then the rest"
    )
    func snapshotInstall() {
        var config = RaftConfig()
        config.snapshotChunkBytesMax = 8
        var cluster = TestCluster(voters: 3, config: config)
        let leader = cluster.electLeader()!
        let lagging = cluster.ids.first { $0 != leader }!
        cluster.isolate(lagging.rawValue)
        for number in 0..<10 { _ = cluster.propose(leader.rawValue, "e\(number)") }
        let snapshotText = cluster.appliedTexts(leader.rawValue).joined(separator: ",")
        let compactedThrough = cluster.nodes[leader]!.appliedIndex
        cluster.compact(leader, upTo: compactedThrough, data: Array(snapshotText.utf8))
        #expect(cluster.nodes[leader]!.snapshotIndex == compactedThrough)
        #expect(cluster.nodes[leader]!.firstIndex == compactedThrough.next)
        _ = cluster.propose(leader.rawValue, "after")
        cluster.heal()
        cluster.delivered = []
        cluster.tick(20)
        let chunks = cluster.delivered.compactMap { message -> RaftInstallSnapshotRequest? in
            guard case .installSnapshotRequest(let request) = message.body else { return nil }
            return request
        }
        #expect(chunks.count >= snapshotText.utf8.count / 8)
        #expect(chunks.allSatisfy { $0.chunk.count <= 8 })
        let restored = cluster.restoredSnapshots[lagging] ?? []
        #expect(restored.count == 1)
        #expect(
            cluster.restoredSnapshotData[lagging]?.first.map { String(decoding: $0, as: UTF8.self) }
                == snapshotText)
        #expect(restored.first?.size == UInt64(snapshotText.utf8.count))
        #expect(restored.first?.metadata.index == compactedThrough)
        #expect(cluster.appliedTexts(lagging.rawValue) == ["after"])
        #expect(cluster.nodes[lagging]!.commitIndex == cluster.nodes[leader]!.commitIndex)
        // The restarted follower comes back from its persisted snapshot and log.
        cluster.crash(lagging.rawValue)
        cluster.restart(lagging.rawValue)
        #expect(cluster.nodes[lagging]!.snapshotIndex == compactedThrough)
        #expect(cluster.nodes[lagging]!.lastIndex == cluster.nodes[leader]!.lastIndex)
    }

    @Test("a snapshot chunk lost in transit is resent and the transfer completes")
    func lostChunkResent() {
        var config = RaftConfig()
        config.snapshotChunkBytesMax = 4
        var cluster = TestCluster(voters: 3, config: config)
        let leader = cluster.electLeader()!
        let lagging = cluster.ids.first { $0 != leader }!
        cluster.isolate(lagging.rawValue)
        for number in 0..<5 { _ = cluster.propose(leader.rawValue, "e\(number)") }
        let applied = cluster.nodes[leader]!.appliedIndex
        cluster.compact(leader, upTo: applied, data: Array("0123456789abcdef".utf8))
        cluster.heal()
        var droppedOne = false
        cluster.intercept = { message in
            if case .installSnapshotRequest(let request) = message.body, request.offset == 8,
                !droppedOne
            {
                droppedOne = true
                return nil
            }
            return message
        }
        cluster.tick(30)
        #expect(droppedOne)
        #expect(cluster.restoredSnapshotData[lagging]?.first == Array("0123456789abcdef".utf8))
        #expect(cluster.nodes[lagging]!.commitIndex == cluster.nodes[leader]!.commitIndex)
    }
}
