import CohortCore

/// Who takes part in one Raft group. Every list is sorted and the lists are disjoint.
///
/// - Voters hold the full log and vote; only they can become leader.
/// - Witnesses vote and count for quorums, but keep only log metadata (index, term, kind,
///   membership entries): normal entries reach them with their data left out. A witness never
///   campaigns, so it never becomes leader (it could not serve data it does not have).
/// - Learners receive the full log but neither vote nor count for any quorum.
public struct RaftMembership: Hashable, Sendable, CustomStringConvertible {
    /// Full-data voting members, sorted.
    public private(set) var voters: [NodeID]
    /// Voting members without data, sorted.
    public private(set) var witnesses: [NodeID]
    /// Non-voting members, sorted.
    public private(set) var learners: [NodeID]
    /// Learners the leader promotes to voters once they have caught up, sorted; a subset of
    /// `learners`.
    public private(set) var learnersAwaitingPromotion: [NodeID]

    /// A membership with no members: a node that waits to be added to a group.
    public static let empty = RaftMembership(voters: [])

    /// Creates a membership. Traps when a node appears in two roles.
    public init(
        voters: [NodeID], witnesses: [NodeID] = [], learners: [NodeID] = [],
        learnersAwaitingPromotion: [NodeID] = []
    ) {
        self.voters = voters.sorted()
        self.witnesses = witnesses.sorted()
        self.learners = learners.sorted()
        self.learnersAwaitingPromotion = learnersAwaitingPromotion.sorted()
        let all = self.voters + self.witnesses + self.learners
        precondition(Set(all).count == all.count, "a node appears twice in membership \(all)")
        precondition(
            Set(self.learnersAwaitingPromotion).isSubset(of: Set(self.learners)),
            "learnersAwaitingPromotion \(self.learnersAwaitingPromotion) not all learners")
        precondition(!all.contains(.none), "NodeID.none cannot be a member")
    }

    /// Voters and witnesses, sorted: the members that vote and form quorums.
    public var votingMembers: [NodeID] { (voters + witnesses).sorted() }

    /// Every member, sorted.
    public var allMembers: [NodeID] { (voters + witnesses + learners).sorted() }

    /// How many votes make a majority of the voting members.
    public var quorum: Int { votingMembers.count / 2 + 1 }

    /// Whether `node` votes and counts for quorums.
    public func isVoting(_ node: NodeID) -> Bool {
        voters.contains(node) || witnesses.contains(node)
    }

    /// Whether `node` is a member in any role.
    public func contains(_ node: NodeID) -> Bool {
        isVoting(node) || learners.contains(node)
    }

    /// The membership after `change`, or nil when the change does not apply (the node is
    /// already a member, is not one, or the group would lose its last voter).
    public func applying(_ change: RaftMembershipChange) -> RaftMembership? {
        switch change {
        case .addVoter(let node):
            guard !contains(node), node != .none else { return nil }
            return RaftMembership(
                voters: voters, witnesses: witnesses, learners: learners + [node],
                learnersAwaitingPromotion: learnersAwaitingPromotion + [node])
        case .addLearner(let node):
            guard !contains(node), node != .none else { return nil }
            return RaftMembership(
                voters: voters, witnesses: witnesses, learners: learners + [node],
                learnersAwaitingPromotion: learnersAwaitingPromotion)
        case .addWitness(let node):
            guard !contains(node), node != .none else { return nil }
            return RaftMembership(
                voters: voters, witnesses: witnesses + [node], learners: learners,
                learnersAwaitingPromotion: learnersAwaitingPromotion)
        case .promoteLearner(let node):
            guard learners.contains(node) else { return nil }
            return RaftMembership(
                voters: voters + [node], witnesses: witnesses,
                learners: learners.filter { $0 != node },
                learnersAwaitingPromotion: learnersAwaitingPromotion.filter { $0 != node })
        case .remove(let node):
            guard contains(node) else { return nil }
            let remaining = RaftMembership(
                voters: voters.filter { $0 != node }, witnesses: witnesses.filter { $0 != node },
                learners: learners.filter { $0 != node },
                learnersAwaitingPromotion: learnersAwaitingPromotion.filter { $0 != node })
            return remaining.voters.isEmpty ? nil : remaining
        }
    }

    /// A short form such as `voters[n1,n2] witnesses[n3] learners[n4*]` (`*` awaits promotion).
    public var description: String {
        let learnerText = learners.map {
            learnersAwaitingPromotion.contains($0) ? "\($0)*" : "\($0)"
        }
        return
            "voters\(voters) witnesses\(witnesses) learners[\(learnerText.joined(separator: ", "))]"
    }
}
