/// When a write is acknowledged to its client (DESIGN.md §3, single-leader).
public enum AckMode: String, Hashable, Sendable, CaseIterable {
    /// Synchronous: once every voter has the entry durably (and it is committed).
    case all
    /// Semi-synchronous: once a majority of voters has it durably (committed). The default.
    case majority
    /// Asynchronous: once the leader has it durably. A failover can discard it; the node that
    /// loses it records it in its rollback log.
    case leader
}
