/// The guarantee a session's reads ask for (DESIGN.md §1, per-request consistency).
public enum ReadConsistency: Hashable, Sendable {
    /// The read reflects every write acknowledged before it began (ReadIndex through the
    /// leader). The default.
    case linearizable
    /// Read-your-writes, monotonic and consistent-prefix reads for the session: a replica
    /// answers once it has applied the session's token.
    case session
    /// A replica answers if it was caught up with the leader within this many milliseconds;
    /// otherwise the read is linearizable.
    case boundedStaleness(millis: UInt64)
    /// Whatever the replica has applied, at once.
    case any

    /// The name COHORT CONSISTENCY uses.
    public var name: String {
        switch self {
        case .linearizable: "linearizable"
        case .session: "session"
        case .boundedStaleness(let millis): "stale \(millis)"
        case .any: "any"
        }
    }
}
