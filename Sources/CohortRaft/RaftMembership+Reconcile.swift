import CohortCore

extension RaftMembership {
    /// The next single-server change that moves this membership toward the one wanted, or nil
    /// when there is nothing to do now. Additions come first, so a group never shrinks below
    /// what is wanted while it changes; a voter is added as a learner awaiting promotion (see
    /// ``RaftMembershipChange/addVoter(_:)``), and nothing else changes until the core has
    /// promoted it. A member wanted in another role is removed, then added back in that role
    /// (single-server changes cannot move a node between roles, except a learner's promotion).
    /// Removals of members no longer wanted come last. Only one change may be pending at a
    /// time: callers propose the result and ask again once it has committed.
    public func nextChange(
        towardVoters voters: [NodeID], learners: [NodeID], witnesses: [NodeID]
    ) -> RaftMembershipChange? {
        for voter in voters where !self.voters.contains(voter) {
            if self.learners.contains(voter) {
                // Catching up: the core promotes it. A permanent learner is promoted now.
                return learnersAwaitingPromotion.contains(voter) ? nil : .promoteLearner(voter)
            }
            return contains(voter) ? .remove(voter) : .addVoter(voter)
        }
        for witness in witnesses where !self.witnesses.contains(witness) {
            return contains(witness) ? .remove(witness) : .addWitness(witness)
        }
        for learner in learners where !self.learners.contains(learner) {
            return contains(learner) ? .remove(learner) : .addLearner(learner)
        }
        let wanted = Set(voters + learners + witnesses)
        if let extra = allMembers.first(where: { !wanted.contains($0) }) {
            return .remove(extra)
        }
        return nil
    }
}
