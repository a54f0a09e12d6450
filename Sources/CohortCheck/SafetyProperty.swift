/// The Raft safety properties (Raft paper, Figure 3) and monotonicity rules the
/// ``RaftSafetyChecker`` enforces.
public enum SafetyProperty: String, Hashable, Sendable, CaseIterable {
    /// At most one leader per term, over the whole run (§5.2).
    case electionSafety
    /// Entries with the same index and term hold the same payload, and logs that share an
    /// entry agree on everything before it (§5.3).
    case logMatching
    /// A committed entry is in the log of every leader of a later term (§5.4).
    case leaderCompleteness
    /// No two nodes apply different entries at one index; a committed index never changes
    /// (§5.4.3).
    case stateMachineSafety
    /// A node's term never decreases.
    case termMonotonicity
    /// A node's commit index never decreases (except across a restart) and never exceeds its log.
    case commitMonotonicity
    /// A node's applied index never decreases (except across a restart) and never exceeds its
    /// commit index.
    case appliedMonotonicity
}
