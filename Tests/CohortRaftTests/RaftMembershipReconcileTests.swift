import CohortCore
import Testing

@testable import CohortRaft

/// Moving a group's membership toward a wanted one, one single-server change at a time.
struct RaftMembershipReconcileTests {
    static func ids(_ raws: [UInt64]) -> [NodeID] { raws.map(NodeID.init) }

    /// Applies changes as the core would (promoting learners that await it) until none is
    /// left; returns the memberships passed through.
    static func converge(
        from start: RaftMembership, voters: [NodeID], learners: [NodeID], witnesses: [NodeID]
    ) -> [RaftMembership] {
        var path = [start]
        var current = start
        for _ in 0..<50 {
            if let waiting = current.learnersAwaitingPromotion.first {
                // The core promotes a caught-up learner on its own.
                current = current.applying(.promoteLearner(waiting))!
            } else if let change = current.nextChange(
                towardVoters: voters, learners: learners, witnesses: witnesses)
            {
                guard let next = current.applying(change) else {
                    Issue.record("proposed an invalid change \(change) to \(current)")
                    return path
                }
                current = next
            } else {
                return path
            }
            path.append(current)
        }
        Issue.record("did not converge: \(path)")
        return path
    }

    @Test func addsBeforeRemovingAndEndsAtTheWantedMembership() {
        let start = RaftMembership(voters: Self.ids([1, 2]))
        let path = Self.converge(
            from: start, voters: Self.ids([2, 3]), learners: Self.ids([4]),
            witnesses: Self.ids([5]))
        let end = path.last!
        #expect(end.voters == Self.ids([2, 3]))
        #expect(end.learners == Self.ids([4]))
        #expect(end.witnesses == Self.ids([5]))
        // Node 1 leaves only after everyone wanted is in: the group never shrinks first.
        let removal = path.firstIndex { !$0.allMembers.contains(NodeID(1)) }!
        #expect(path[removal - 1].allMembers.count == 5)
        // Every step is one server.
        for (before, after) in zip(path, path.dropFirst()) {
            let moved = Set(before.allMembers).symmetricDifference(Set(after.allMembers)).count
            #expect(moved <= 1)
        }
    }

    @Test func waitsForAVoterThatIsCatchingUp() {
        let catchingUp = RaftMembership(voters: Self.ids([1, 2])).applying(.addVoter(NodeID(3)))!
        #expect(
            catchingUp.nextChange(
                towardVoters: Self.ids([1, 2, 3]), learners: [], witnesses: Self.ids([4])) == nil)
        let done = RaftMembership(voters: Self.ids([1, 2, 3]))
        #expect(
            done.nextChange(towardVoters: Self.ids([1, 2, 3]), learners: [], witnesses: []) == nil)
    }

    @Test(arguments: 1...30)
    func randomTargetsConverge(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        func pick(_ pool: inout [NodeID], _ count: Int) -> [NodeID] {
            var chosen: [NodeID] = []
            for _ in 0..<count where !pool.isEmpty {
                chosen.append(pool.remove(at: Int(random.below(UInt64(pool.count)))))
            }
            return chosen.sorted()
        }
        var pool = Self.ids(Array(1...9))
        let start = RaftMembership(voters: pick(&pool, 1 + Int(random.below(3))))
        pool = Self.ids(Array(1...9))
        let voters = pick(&pool, 1 + Int(random.below(4)))
        let learners = pick(&pool, Int(random.below(3)))
        let witnesses = pick(&pool, Int(random.below(2)))
        let end = Self.converge(
            from: start, voters: voters, learners: learners, witnesses: witnesses
        ).last!
        #expect(end.voters == voters)
        #expect(end.learners == learners)
        #expect(end.witnesses == witnesses)
    }
}
