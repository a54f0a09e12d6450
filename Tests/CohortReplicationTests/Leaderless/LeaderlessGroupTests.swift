import CohortCore
import Testing

@testable import CohortReplication

/// A few leaderless groups wired by hand: messages and disk completions are delivered only
/// when the test says, so each step of the protocol can be observed.
struct LeaderlessHarness {
    var groups: [NodeID: LeaderlessGroup] = [:]
    var inFlight: [(from: NodeID, to: NodeID, message: LeaderlessMessage)] = []
    var disks: [NodeID: [DiskOperationID]] = [:]
    var writeResults: [RequestID: LeaderlessWriteResult] = [:]
    var readResults: [RequestID: LeaderlessReadResult] = [:]
    var nowMillis: UInt64 = 0
    /// Nodes that get no messages (partitioned away).
    var isolated: Set<NodeID> = []
    /// Bytes of anti-entropy messages sent.
    var antiEntropyBytes = 0

    init(members: Int, configuration: LeaderlessConfiguration) {
        let ids = (1...members).map { NodeID(UInt64($0)) }
        let ring = LeaderlessRing(members: ids, replicas: configuration.replicas)
        for id in ids {
            groups[id] = LeaderlessGroup(nodeID: id, ring: ring, configuration: configuration)
        }
    }

    var now: GroupTime { GroupTime(monotonicMillis: nowMillis, wallMillis: 1_000 + nowMillis) }

    mutating func collect(_ id: NodeID) {
        for action in groups[id]!.drain() {
            switch action {
            case .send(let message, let peer):
                // Every message crosses as bytes, as on the network.
                let bytes = LeaderlessMessageCodec.encode(message)
                switch message {
                case .treeRoots, .treeDiffering, .treeInterior, .treeLeaves, .digests, .exchange:
                    antiEntropyBytes += bytes.count
                default: break
                }
                let decoded = LeaderlessMessageCodec.decode(bytes)
                inFlight.append((id, peer, decoded!))
            case .persist(let operation, _, _), .persistHint(let operation, _, _, _),
                .persistDotFloor(let operation, _):
                disks[id, default: []].append(operation)
            case .writeDone(let request, let result):
                writeResults[request] = result
            case .readDone(let request, let result):
                readResults[request] = result
            }
        }
    }

    mutating func write(
        _ request: UInt64, at node: NodeID, _ key: String, _ value: String?,
        context: VersionVector = .empty, quorum: Int? = nil
    ) {
        groups[node]!.submitWrite(
            RequestID(request), key: Array(key.utf8), value: value.map { Array($0.utf8) },
            context: context, writeQuorum: quorum, now: now)
        collect(node)
    }

    mutating func read(_ request: UInt64, at node: NodeID, _ key: String) {
        groups[node]!.submitRead(RequestID(request), key: Array(key.utf8), now: now)
        collect(node)
    }

    /// Completes every disk operation and delivers every message (except to isolated nodes)
    /// until nothing moves.
    mutating func settle() {
        var moved = true
        while moved {
            moved = false
            for id in groups.keys.sorted() {
                let operations = disks[id] ?? []
                disks[id] = []
                for operation in operations {
                    groups[id]!.diskCompleted(operation, now: now)
                    collect(id)
                    moved = true
                }
            }
            let messages = inFlight
            inFlight = []
            for (from, to, message) in messages
            where !isolated.contains(to) && !isolated.contains(from) {
                groups[to]!.receive(message, from: from, now: now)
                collect(to)
                moved = true
            }
        }
    }

    mutating func tick(by millis: UInt64) {
        nowMillis += millis
        for id in groups.keys.sorted() {
            groups[id]!.tick(now: now)
            collect(id)
        }
    }
}

@Suite struct LeaderlessGroupTests {
    let n1 = NodeID(1)
    let n2 = NodeID(2)
    let n3 = NodeID(3)

    /// Anti-entropy off unless a test turns it on, so message counts are the protocol's own.
    func harness(
        members: Int = 3, readRepair: Bool = true, antiEntropyMillis: UInt64 = 0
    ) -> LeaderlessHarness {
        LeaderlessHarness(
            members: members,
            configuration: LeaderlessConfiguration(
                replicas: 3, writeQuorum: 2, readQuorum: 2, requestTimeoutMillis: 500,
                readRepair: readRepair, antiEntropyIntervalMillis: antiEntropyMillis))
    }

    @Test func aWriteLeavesTheCoordinatorOnlyOnceDurableThereAndIsAcknowledgedAtW() {
        var world = harness()
        world.write(1, at: n1, "k", "v")
        #expect(world.inFlight.isEmpty, "nothing is sent before the coordinator's copy is durable")
        // The first write reserves dot counters, then writes the state.
        #expect(world.disks[n1]?.count == 2)
        world.groups[n1]!.diskCompleted(world.disks[n1]!.removeFirst(), now: world.now)
        world.collect(n1)
        #expect(world.inFlight.isEmpty)
        world.groups[n1]!.diskCompleted(world.disks[n1]!.removeFirst(), now: world.now)
        world.collect(n1)
        #expect(world.inFlight.map(\.to).sorted() == [n2, n3])
        #expect(world.writeResults.isEmpty, "one durable copy is not W = 2")
        // Only n2 gets its copy; n3 is away.
        world.isolated = [n3]
        world.settle()
        guard case .written(let dot, let context) = world.writeResults[RequestID(1)] else {
            Issue.record("write not acknowledged: \(String(describing: world.writeResults))")
            return
        }
        #expect(dot == Dot(replica: n1, counter: 1))
        #expect(context.covers(dot))
        #expect(world.groups[n2]!.durableState(of: Array("k".utf8)).holds(dot))
        #expect(world.groups[n3]!.durableState(of: Array("k".utf8)).isEmpty)
    }

    @Test func aWriteWithoutQuorumFailsNamingHowManyAnswered() {
        var world = harness()
        world.isolated = [n2, n3]
        world.write(1, at: n1, "k", "v")
        world.settle()
        #expect(world.writeResults.isEmpty)
        world.tick(by: 501)
        guard case .failed(let reason) = world.writeResults[RequestID(1)] else {
            Issue.record("no failure: \(String(describing: world.writeResults))")
            return
        }
        #expect(reason.contains("1 of 2 replicas acknowledged"))
    }

    @Test func concurrentBlindWritesBecomeSiblingsAndAContextWriteMergesThem() {
        var world = harness()
        world.write(1, at: n1, "cart", "milk")
        world.write(2, at: n2, "cart", "eggs")
        world.settle()
        world.read(3, at: n3, "cart")
        world.settle()
        guard case .found(let state, _) = world.readResults[RequestID(3)] else {
            Issue.record("read failed")
            return
        }
        #expect(Set(state.values) == [Array("milk".utf8), Array("eggs".utf8)])
        world.write(4, at: n3, "cart", "milk,eggs", context: state.context)
        world.settle()
        world.read(5, at: n1, "cart")
        world.settle()
        guard case .found(let merged, _) = world.readResults[RequestID(5)] else {
            Issue.record("read failed")
            return
        }
        #expect(merged.values == [Array("milk,eggs".utf8)])
    }

    @Test func aReadRepairsTheReplicaThatAnsweredAnOlderState() {
        var world = harness()
        world.isolated = [n3]
        world.write(1, at: n1, "k", "v")
        world.settle()
        world.isolated = []
        let key = Array("k".utf8)
        #expect(world.groups[n3]!.durableState(of: key).isEmpty)
        world.read(2, at: n3, "k")
        world.settle()
        guard case .found(let state, _) = world.readResults[RequestID(2)] else {
            Issue.record("read failed")
            return
        }
        #expect(state.values == [Array("v".utf8)])
        #expect(world.groups[n3]!.durableState(of: key) == state)
        #expect(world.groups[n3]!.statistics.readRepairs >= 1)
    }

    @Test func antiEntropyAloneRepairsAReplicaThatMissedWrites() {
        var world = harness(readRepair: false, antiEntropyMillis: 10)
        world.isolated = [n3]
        for index in 0..<20 { world.write(UInt64(index + 1), at: n1, "k\(index)", "v\(index)") }
        world.settle()
        world.isolated = []
        // Each tick exchanges one partition with one peer; a few hundred cover them all.
        for _ in 0..<400 {
            world.tick(by: 10)
            world.settle()
        }
        for index in 0..<20 {
            let key = Array("k\(index)".utf8)
            #expect(
                world.groups[n3]!.durableState(of: key) == world.groups[n1]!.durableState(of: key))
        }
        #expect(world.groups.values.map(\.statistics.antiEntropyKeysRepaired).reduce(0, +) >= 20)
    }

    /// Replicas that share 3,000 keys and differ in some exchange bytes in proportion to the
    /// differences, not to the data: the Merkle trees narrow the comparison to the differing
    /// leaves. With many differences the issue's bound holds (under 3 x the differing states'
    /// bytes); with a few, the trees' levels cost more per key, but the whole stays a small
    /// fraction of the data.
    @Test(arguments: [30, 600])
    func antiEntropyBytesFollowTheDifferencesNotTheData(differingKeys: Int) {
        var world = harness(readRepair: false, antiEntropyMillis: 10)
        let value = String(repeating: "x", count: 100)
        for index in 0..<3_000 { world.write(UInt64(index + 1), at: n1, "k\(index)", value) }
        world.settle()
        world.isolated = [n3]
        for index in 0..<differingKeys {
            world.write(UInt64(10_000 + index), at: n1, "k\(index)", "new")
        }
        world.settle()
        world.isolated = []
        world.antiEntropyBytes = 0
        var differing = differingKeys
        var rounds = 0
        while differing > 0, rounds < 100 {
            world.tick(by: 10)
            world.settle()
            rounds += 1
            differing =
                (0..<differingKeys).filter { index in
                    let key = Array("k\(index)".utf8)
                    return world.groups[n3]!.durableState(of: key)
                        != world.groups[n1]!.durableState(of: key)
                }.count
        }
        #expect(differing == 0, "not repaired in \(rounds) rounds")
        let bytes = { (range: Range<Int>) in
            range.map { world.groups[n1]!.durableState(of: Array("k\($0)".utf8)).encoded.count }
                .reduce(0, +)
        }
        let differingBytes = bytes(0..<differingKeys)
        let allBytes = bytes(0..<3_000)
        let summary =
            "\(world.antiEntropyBytes) bytes for \(differingBytes) differing of \(allBytes)"
        if differingKeys >= 600 {
            #expect(world.antiEntropyBytes < 3 * differingBytes, "\(summary)")
        } else {
            #expect(world.antiEntropyBytes < allBytes / 20, "\(summary)")
        }
    }

    @Test func merkleTreesOfEqualStatesAreEqualWhateverTheOrder() {
        var first = MerkleTree()
        var second = MerkleTree()
        let keys = (0..<500).map { Array("key\($0)".utf8) }
        for (index, key) in keys.enumerated() {
            first.update(key: key, from: nil, to: UInt64(index))
        }
        for (index, key) in keys.enumerated().reversed() {
            second.update(key: key, from: nil, to: UInt64(index) &+ 1)
            second.update(key: key, from: UInt64(index) &+ 1, to: UInt64(index))
        }
        #expect(first == second && first.root != 0)
        second.update(key: keys[7], from: 7, to: 8)
        #expect(first.root != second.root)
        let leaf = MerkleTree.leaf(of: keys[7])
        let differing = first.leaves.indices.filter { first.leaves[$0] != second.leaves[$0] }
        #expect(differing == [leaf])
        for (index, key) in keys.enumerated() {
            second.update(key: key, from: index == 7 ? 8 : UInt64(index), to: nil)
        }
        #expect(second.root == 0 && second.leaves.allSatisfy { $0 == 0 })
    }

    /// Two of a key's three home replicas are away: with a sloppy quorum the write goes to
    /// the next node on the ring as a hint and is acknowledged; once the home replicas are
    /// back, the hint reaches them and the fallback drops it.
    @Test func sloppyQuorumAcknowledgesThroughAFallbackAndHandsTheHintOff() {
        var world = LeaderlessHarness(
            members: 5,
            configuration: LeaderlessConfiguration(
                requestTimeoutMillis: 1_000, antiEntropyIntervalMillis: 0, sloppy: true,
                hintAfterMillis: 50, handoffIntervalMillis: 50))
        let ring = world.groups[n1]!.ring
        let key = (0..<200).map { "key\($0)" }.first {
            ring.preferenceList(of: Array($0.utf8)).first == n1
        }!
        let bytes = Array(key.utf8)
        let homes = ring.preferenceList(of: bytes)
        let fallback = ring.fallbacks(ofPartition: ring.partition(of: bytes))[0]
        world.isolated = Set(homes.dropFirst())
        world.write(1, at: n1, key, "v")
        world.settle()
        #expect(world.writeResults.isEmpty)
        world.tick(by: 60)
        world.settle()
        guard case .written(let dot, _) = world.writeResults[RequestID(1)] else {
            Issue.record("not acknowledged through the fallback: \(world.writeResults)")
            return
        }
        #expect(world.groups[fallback]!.hintsPending == [homes[1]: 1])
        #expect(world.groups[fallback]!.durableState(of: bytes).isEmpty, "a hint is not a key")
        world.isolated = []
        world.tick(by: 60)
        world.settle()
        #expect(world.groups[homes[1]]!.durableState(of: bytes).holds(dot))
        #expect(world.groups[fallback]!.hintsPending.isEmpty)
        #expect(world.groups[fallback]!.statistics.hintsHandedOff == 1)
    }

    @Test func strictQuorumNeverUsesFallbacks() {
        var world = LeaderlessHarness(
            members: 5,
            configuration: LeaderlessConfiguration(
                requestTimeoutMillis: 200, antiEntropyIntervalMillis: 0, sloppy: false))
        let ring = world.groups[n1]!.ring
        let key = (0..<200).map { "key\($0)" }.first {
            ring.preferenceList(of: Array($0.utf8)).first == n1
        }!
        world.isolated = Set(ring.preferenceList(of: Array(key.utf8)).dropFirst())
        world.write(1, at: n1, key, "v")
        for _ in 0..<5 {
            world.tick(by: 50)
            world.settle()
        }
        guard case .failed(let reason) = world.writeResults[RequestID(1)] else {
            Issue.record("a strict quorum write was acknowledged without W home replicas")
            return
        }
        #expect(reason.contains("1 of 2"))
        #expect(world.groups.values.allSatisfy { $0.hintsPending.isEmpty })
    }

    /// A delete's tombstone is collected once every home replica holds it, and a copy of the
    /// old value arriving afterwards stays deleted; a new write starts a new history.
    @Test func tombstonesAreCollectedOnlyWhenEveryReplicaHoldsThemAndStayDeleted() {
        var world = harness(antiEntropyMillis: 10)
        let key = Array("k".utf8)
        world.write(1, at: n1, "k", "old")
        world.settle()
        let old = world.groups[n1]!.durableState(of: key)
        // n3 misses the delete.
        world.isolated = [n3]
        world.write(2, at: n1, "k", nil, context: old.context)
        world.settle()
        for _ in 0..<20 {
            world.tick(by: 10)
            world.settle()
        }
        #expect(world.groups[n1]!.durableState(of: key).isDeleted)
        #expect(
            world.groups.values.allSatisfy { $0.statistics.tombstonesCollected == 0 },
            "collected while a home replica lacked the tombstone")
        world.isolated = []
        for _ in 0..<40 {
            world.tick(by: 10)
            world.settle()
        }
        for id in [n1, n2, n3] {
            #expect(world.groups[id]!.durableState(of: key).isEmpty, "\(id) kept the key")
            #expect(world.groups[id]!.graveClock(of: key)?.descends(from: old.clock) == true)
        }
        // A stale copy of the old value arrives late: it stays superseded.
        world.groups[n2]!.receive(.repair(key: key, state: old), from: n3, now: world.now)
        world.collect(n2)
        world.settle()
        #expect(world.groups[n2]!.durableState(of: key).isEmpty)
        // A new write, without context, is a new value, not covered by the old clock.
        world.write(3, at: n1, "k", "new")
        world.settle()
        world.read(4, at: n2, "k")
        world.settle()
        guard case .found(let state, _) = world.readResults[RequestID(4)] else {
            Issue.record("read failed")
            return
        }
        #expect(state.values == [Array("new".utf8)])
    }

    /// Dots come from a node-wide counter reserved durably ahead: a restarted node continues
    /// above every dot it may have handed out.
    @Test func dotsAfterARestartAreAboveTheReservation() {
        var world = harness()
        world.write(1, at: n1, "a", "1")
        world.settle()
        world.write(2, at: n1, "b", "2")
        world.settle()
        guard case .written(let second, _) = world.writeResults[RequestID(2)] else {
            Issue.record("write failed")
            return
        }
        #expect(second.counter == 2, "one counter for the node, not per key")
        let restarted = LeaderlessGroup(
            nodeID: n1, ring: world.groups[n1]!.ring,
            configuration: world.groups[n1]!.configuration,
            durableStates: [:], durableDotFloor: 1 + LeaderlessGroup.dotReservationBlock)
        world.groups[n1] = restarted
        world.write(3, at: n1, "c", "3")
        world.settle()
        guard case .written(let third, _) = world.writeResults[RequestID(3)] else {
            Issue.record("write failed")
            return
        }
        #expect(third.counter > LeaderlessGroup.dotReservationBlock)
    }

    /// Blind writes pile up siblings: past the limit, a client write that would add one is
    /// refused with a clear error, and a write that supersedes them is taken.
    @Test func theSiblingLimitRefusesBlindWritesButNotMerges() {
        var world = LeaderlessHarness(
            members: 3,
            configuration: LeaderlessConfiguration(antiEntropyIntervalMillis: 0, siblingsMax: 2))
        world.write(1, at: n1, "k", "a")
        world.settle()
        world.write(2, at: n1, "k", "b")
        world.settle()
        world.write(3, at: n1, "k", "c")
        world.settle()
        guard case .failed(let reason) = world.writeResults[RequestID(3)] else {
            Issue.record("a third concurrent value was taken: \(world.writeResults)")
            return
        }
        #expect(reason.hasPrefix("SIBLINGS the key holds 2 concurrent values"))
        let context = world.groups[n1]!.durableState(of: Array("k".utf8)).context
        world.write(4, at: n1, "k", "a,b", context: context)
        world.settle()
        guard case .written = world.writeResults[RequestID(4)] else {
            Issue.record("the merge was refused")
            return
        }
        #expect(world.groups[n1]!.statistics.siblingRefusals == 1)
    }

    /// COHORT W / COHORT R: a write at W = 3 waits for the replica that is away, and fails
    /// naming it; at W = 1 it is acknowledged by the coordinator alone; a forwarded write
    /// carries its W to the replica that coordinates it.
    @Test func perRequestQuorumsOverrideTheKeyspaces() {
        var world = harness()
        world.isolated = [n3]
        world.write(1, at: n1, "k", "v", quorum: 3)
        world.settle()
        #expect(world.writeResults[RequestID(1)] == nil)
        world.tick(by: 501)
        guard case .failed(let reason) = world.writeResults[RequestID(1)] else {
            Issue.record("W 3 acknowledged without the third replica")
            return
        }
        #expect(reason.contains("2 of 3"))
        world.isolated = [n2, n3]
        world.write(2, at: n1, "k", "w", quorum: 1)
        world.settle()
        guard case .written = world.writeResults[RequestID(2)] else {
            Issue.record("W 1 not acknowledged by the coordinator alone")
            return
        }
        world.groups[n1]!.submitRead(
            RequestID(3), key: Array("k".utf8), readQuorum: 1, now: world.now)
        world.collect(n1)
        world.settle()
        guard case .found(let state, let replies) = world.readResults[RequestID(3)] else {
            Issue.record("R 1 read failed")
            return
        }
        #expect(replies == 1 && state.values.contains(Array("w".utf8)))
    }

    @Test func aNodeOutsideThePreferenceListForwardsTheWriteToAReplica() {
        var world = LeaderlessHarness(
            members: 5, configuration: LeaderlessConfiguration(antiEntropyIntervalMillis: 0))
        let ring = world.groups[n1]!.ring
        let key = (0..<100).map { "key\($0)" }.first {
            !ring.preferenceList(of: Array($0.utf8)).contains(n1)
        }!
        world.write(1, at: n1, key, "v")
        #expect(world.inFlight.count == 1)
        #expect(ring.preferenceList(of: Array(key.utf8)).contains(world.inFlight[0].to))
        world.settle()
        guard case .written(let dot, _) = world.writeResults[RequestID(1)] else {
            Issue.record("forwarded write not acknowledged")
            return
        }
        #expect(dot.replica != n1)
    }

    @Test func aCrashBeforeTheDiskCompletesLosesOnlyWhatNobodySaw() {
        var world = harness()
        world.write(1, at: n1, "k", "lost")
        // n1 crashes before its disk completes: nothing was sent, so the dot was never seen.
        world.disks[n1] = []
        world.groups[n1] = LeaderlessGroup(
            nodeID: n1, ring: world.groups[n1]!.ring, configuration: world.groups[n1]!.configuration
        )
        world.write(2, at: n1, "k", "kept")
        world.settle()
        guard case .written(let dot, _) = world.writeResults[RequestID(2)] else {
            Issue.record("write not acknowledged")
            return
        }
        // The lost write's dot was never seen by anyone: reusing its counter is harmless.
        #expect(dot == Dot(replica: n1, counter: 1))
        world.read(3, at: n2, "k")
        world.settle()
        guard case .found(let state, _) = world.readResults[RequestID(3)] else {
            Issue.record("read failed")
            return
        }
        #expect(state.values == [Array("kept".utf8)])
    }
}
