import CohortCore

extension RaftNode {
    /// Checks the whole node state and traps, naming the offending state, when an invariant
    /// does not hold. Cheap enough for the simulator to call after every step.
    public func checkInvariants() {
        // A node with deliberate faults breaks these on purpose; the checkers must find it.
        guard config.faults.isEmpty else { return }
        let context = "\(id) \(role.kind) \(term)"
        precondition(
            log.snapshotIndex <= log.applied,
            "\(context): applied \(log.applied) below snapshot \(log.snapshotIndex)")
        precondition(
            log.applied <= log.applyingThrough,
            "\(context): applied \(log.applied) beyond applying \(log.applyingThrough)")
        precondition(
            log.applyingThrough <= log.committed,
            "\(context): applying \(log.applyingThrough) beyond commit \(log.committed)")
        precondition(
            log.committed <= log.lastIndex,
            "\(context): commit \(log.committed) beyond last index \(log.lastIndex)")
        precondition(
            log.stable <= log.lastIndex, "\(context): stable \(log.stable) beyond \(log.lastIndex)")
        var previousTerm = log.snapshotTerm
        for (offset, entry) in log.entries.enumerated() {
            precondition(
                entry.index == log.snapshotIndex + UInt64(offset + 1),
                "\(context): entry \(entry) at offset \(offset) after snapshot \(log.snapshotIndex)"
            )
            precondition(
                entry.term >= previousTerm, "\(context): entry \(entry) term below \(previousTerm)")
            precondition(entry.term <= term, "\(context): entry \(entry) from a future term")
            previousTerm = entry.term
        }
        precondition(
            membership == log.membership(at: log.lastIndex),
            "\(context): membership \(membership) differs from the log's \(log.membership(at: log.lastIndex))"
        )
        switch role {
        case .leader(let state):
            precondition(
                votedFor == id, "\(context): leader voted for \(String(describing: votedFor))")
            // A leader removing itself leads until the removal commits (thesis §4.2.2).
            precondition(
                membership.voters.contains(id) || membershipIndex > log.committed,
                "\(context): leader is not a voter in \(membership) committed at \(membershipIndex)"
            )
            for peer in state.progress.keys.sorted() {
                let progress = state.progress[peer]!
                precondition(
                    progress.matchIndex <= log.lastIndex,
                    "\(context): \(peer) match \(progress.matchIndex) beyond \(log.lastIndex)")
                precondition(
                    progress.matchIndex < progress.nextIndex,
                    "\(context): \(peer) match \(progress.matchIndex) not below next \(progress.nextIndex)"
                )
                precondition(
                    membership.contains(peer), "\(context): progress for non-member \(peer)")
                precondition(
                    progress.inflightLastIndexes.count <= config.inflightMessagesMax,
                    "\(context): \(peer) has \(progress.inflightLastIndexes.count) in flight")
            }
            precondition(
                state.pendingReads.count <= config.readRequestsPendingMax,
                "\(context): \(state.pendingReads.count) pending reads")
        case .candidate:
            precondition(
                votedFor == id, "\(context): candidate voted for \(String(describing: votedFor))")
        case .preCandidate, .follower:
            break
        }
    }
}
