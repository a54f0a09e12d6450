import CohortCore
import CohortRaft
import Testing

@testable import CohortReplication

/// The single-leader group as a pure state machine: three of them in one thread (see
/// ``GroupHarness``), driven through their inputs with a clock the test moves.
@Suite struct LeaderGroupTests {
    @Test func writesThroughAFollowerCommitEverywhere() {
        var harness = GroupHarness(nodes: 3)
        let leader = harness.electLeader()
        let follower = (leader + 1) % 3
        let id = harness.write(["SET", "k", "v"], on: follower)
        harness.settle()
        let answer = harness.members[follower].replies[id]
        #expect(answer?.reply == .ok)
        #expect((answer?.token ?? .zero) > .zero)
        harness.advance(millis: 200)
        for member in harness.members {
            #expect(member.evaluator.state[Array("k".utf8)] == Array("v".utf8))
        }
    }

    /// Found by the simulator: a forwarded SET the network delayed past a whole-cluster power
    /// loss reached the new leader, which had no memory of having applied it, and applied it
    /// again after later writes. A leader takes only forwards sent to its own term.
    @Test func aLeaderTakesOnlyForwardsSentToItsOwnTerm() {
        var harness = GroupHarness(nodes: 3)
        let leader = harness.electLeader()
        let follower = (leader + 1) % 3
        let term = harness.members[leader].group.raft.term.rawValue
        let sender = harness.members[follower].group.nodeID
        for (id, sentTerm, value) in [(UInt64(900), term - 1, "old"), (901, term + 1, "new")] {
            let frame = ForwardMessage.request(
                id: id, arguments: [Array("SET".utf8), Array("k".utf8), Array(value.utf8)],
                token: 0, ackMode: .majority, term: sentTerm
            ).encoded()
            harness.members[leader].group.receiveForward(frame, from: sender, now: harness.now)
        }
        let refusals = harness.members[leader].group.drain().compactMap { action -> String? in
            guard case .forward(let bytes, _) = action,
                case .response(_, let reply, let index)? = ForwardMessage.decode(bytes),
                index == 0, case .error(let text) = LeaderGroup.decodeReply(reply)
            else { return nil }
            return text
        }
        #expect(refusals.count == 2)
        // Only this copy was refused: another may have reached the leader of its term.
        #expect(refusals.allSatisfy { $0.hasPrefix("UNCERTAIN") })
        harness.members[leader].group.finishedActions()
        harness.settle()
        #expect(harness.members[leader].evaluator.state[Array("k".utf8)] == nil)
        // The same write sent to the leader's term is applied.
        let frame = ForwardMessage.request(
            id: 902, arguments: [Array("SET".utf8), Array("k".utf8), Array("now".utf8)],
            token: 0, ackMode: .majority, term: term
        ).encoded()
        harness.members[leader].group.receiveForward(frame, from: sender, now: harness.now)
        harness.drain(leader)
        harness.settle()
        #expect(harness.members[leader].evaluator.state[Array("k".utf8)] == Array("now".utf8))
    }

    /// REVIEW §7 defect 1: deadlines and lag are measured on the monotonic clock, so a step of
    /// the system clock, either way, neither traps nor expires anything.
    @Test func aStepOfTheWallClockMovesNoDeadline() {
        var harness = GroupHarness(nodes: 3)
        let leader = harness.electLeader()
        harness.cutOff(leader)
        let id = harness.write(["SET", "k", "v"], on: leader)
        harness.advance(millis: 100, wallStepMillis: 3_600_000)
        #expect(harness.members[leader].replies[id] == nil, "a wall-clock step expired a write")
        harness.advance(millis: 100, wallStepMillis: -7_200_000)
        _ = harness.members[leader].group.status(now: harness.now, rollbackEntries: 0)
        #expect(harness.members[leader].replies[id] == nil)
        // The write timeout (10 s) passes on the monotonic clock: the write is answered.
        harness.advance(millis: 10_000)
        let reply = harness.members[leader].replies[id]?.reply
        #expect(reply == .error(LeaderGroup.uncertain.errorMessage ?? ""))
    }

    /// A host whose monotonic reading goes back (two threads' readings racing) is clamped.
    @Test func aMonotonicReadingThatGoesBackIsClamped() {
        var harness = GroupHarness(nodes: 1)
        _ = harness.electLeader()
        var earlier = harness.now
        earlier.monotonicMillis -= 60_000
        harness.members[0].group.tick(now: earlier)
        let status = harness.members[0].group.status(now: earlier, rollbackEntries: 0)
        #expect(status.fields.first?.1 == "leader")
        let id = harness.write(["INCR", "c"], on: 0)
        harness.settle()
        #expect(harness.members[0].replies[id]?.reply == .integer(1))
    }

    /// REVIEW §7 defect 2: a follower cut off from its leader stops serving `stale <ms>` reads
    /// once it cannot show it is within the bound, however much it has applied.
    @Test func aFollowerCutOffStopsServingBoundedStaleReads() {
        var harness = GroupHarness(nodes: 3)
        let leader = harness.electLeader()
        let follower = (leader + 1) % 3
        _ = harness.write(["SET", "k", "v"], on: leader)
        harness.advance(millis: 300)
        let fresh = harness.read(on: follower, consistency: .boundedStaleness(millis: 500))
        guard case .proceed = harness.members[follower].gates[fresh] else {
            Issue.record("a caught-up follower refused a stale read")
            return
        }
        harness.cutOff(follower)
        harness.advance(millis: 3_000)
        let isolated = harness.read(on: follower, consistency: .boundedStaleness(millis: 500))
        if case .proceed = harness.members[follower].gates[isolated] {
            Issue.record("a follower cut off for 3 s served a read bounded at 500 ms")
        }
        #expect(harness.members[follower].group.isFresh(withinMillis: 500) == false)
        // Unreachable, the leader cannot confirm it either: the read is refused in the end.
        harness.advance(millis: 6_000)
        guard case .refused = harness.members[follower].gates[isolated] else {
            Issue.record("the isolated read was neither served nor refused")
            return
        }
        // Reconnected but idle, it cannot show freshness from heartbeats (their commit index
        // is capped at what the leader knows it holds): the read goes through ReadIndex and is
        // served once the leader confirms.
        harness.heal()
        harness.advance(millis: 3_000)
        let idle = harness.read(on: follower, consistency: .boundedStaleness(millis: 500))
        harness.settle()
        guard case .proceed = harness.members[follower].gates[idle] else {
            Issue.record("a reconnected follower's read was not served through ReadIndex")
            return
        }
        // A write reaches it as an append carrying the leader's commit index: fresh again.
        _ = harness.write(["SET", "k", "w"], on: leader)
        harness.advance(millis: 200)
        #expect(harness.members[follower].group.isFresh(withinMillis: 500))
    }

    /// Every queue has a bound and says so past it.
    @Test func requestsParkedWithoutALeaderAreBounded() {
        var limits = LeaderGroupLimits()
        limits.parkedRequestsMax = 2
        var harness = GroupHarness(nodes: 3, limits: limits)
        let ids = (0..<3).map { harness.write(["SET", "k\($0)", "v"], on: 0) }
        #expect(harness.members[0].replies[ids[0]] == nil)
        #expect(harness.members[0].replies[ids[1]] == nil)
        let refused = harness.members[0].replies[ids[2]]?.reply.errorMessage ?? ""
        #expect(refused.hasPrefix("TRYAGAIN") && refused.contains("limit 2"), "\(refused)")
        // Once a leader is known, the parked ones go through.
        _ = harness.electLeader()
        harness.advance(millis: 200)
        #expect(harness.members[0].replies[ids[0]]?.reply == .ok)
        #expect(harness.members[0].replies[ids[1]]?.reply == .ok)
    }

    /// A `leader`-mode write is acknowledged once durable on the leader, never before: with
    /// the leader's background fsync held back (and no follower to commit it), no answer.
    @Test func leaderModeWritesWaitForTheLeadersFsync() {
        var harness = GroupHarness(nodes: 3)
        let leader = harness.electLeader()
        harness.cutOff(leader)
        harness.members[leader].holdsSyncs = true
        let id = harness.write(["SET", "k", "v"], on: leader, ackMode: .leader)
        harness.advance(millis: 100)
        #expect(harness.members[leader].replies[id] == nil, "acknowledged before its fsync")
        #expect(!harness.members[leader].heldSyncs.isEmpty)
        harness.releaseSyncs(leader)
        #expect(harness.members[leader].replies[id]?.reply == .ok)
    }
}

extension RESPValue {
    var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }
}
