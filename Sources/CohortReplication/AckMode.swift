/// When a write is acknowledged to its client (DESIGN.md §3, single-leader).
public enum AckMode: String, Hashable, Sendable, CaseIterable {
    /// Synchronous: once every voter has the entry durably (and it is committed).
    case all
    /// Semi-synchronous: once a majority of voters has it durably (committed). The default.
    case majority
    /// Asynchronous: once the leader has it durably. A failover can discard it; the node that
    /// loses it records it in its rollback log.
    case leader

    /// The mode's byte in forwarded requests. Fixed per mode, never derived from the order of
    /// the cases, so that adding or reordering a case cannot change what a byte means between
    /// nodes of different versions.
    public var wireByte: UInt8 {
        switch self {
        case .all: return 0
        case .majority: return 1
        case .leader: return 2
        }
    }

    /// The mode a forwarded request's byte names; nil for an unknown byte.
    public init?(wireByte: UInt8) {
        switch wireByte {
        case 0: self = .all
        case 1: self = .majority
        case 2: self = .leader
        default: return nil
        }
    }
}
