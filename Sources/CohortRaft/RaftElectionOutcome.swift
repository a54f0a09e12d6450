/// Where an election stands after counting a tally.
enum RaftElectionOutcome: Hashable, Sendable {
    case won
    case lost
    case pending
}
