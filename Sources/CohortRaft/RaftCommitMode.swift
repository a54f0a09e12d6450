/// Which voters must hold an entry before the leader counts it committed (DESIGN.md §3,
/// acknowledgement modes).
public enum RaftCommitMode: Hashable, Sendable {
    /// A majority of the voting members (voters and witnesses): Raft's rule, semi-synchronous.
    case majority
    /// Every voting member: synchronous. Commits stall while any voting member is unreachable;
    /// elections still need only a majority, which stays safe because a committed entry is then
    /// on every voter and so on every quorum.
    case all
}
