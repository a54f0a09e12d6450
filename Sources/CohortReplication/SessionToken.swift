import CohortCore

/// What a session carries so that replicas can keep its guarantees (read-your-writes,
/// monotonic reads): a per-strategy value (DESIGN.md §2). A single-leader keyspace's token is
/// a position in its log; multi-leader keyspaces will carry a hybrid-logical-clock stamp and
/// leaderless ones a version vector, as further cases.
public enum SessionToken: Hashable, Sendable, CustomStringConvertible {
    /// The session has written or observed nothing in this keyspace yet.
    case none
    /// The highest log index the session wrote or observed (single-leader keyspaces).
    case logIndex(LogIndex)

    /// The log index a single-leader group must have applied first (zero for none).
    public var logIndex: LogIndex {
        switch self {
        case .none: .zero
        case .logIndex(let index): index
        }
    }

    /// The token as COHORT TOKEN prints it and COHORT SESSION and forwarded requests carry it.
    public var wireValue: UInt64 { logIndex.rawValue }

    /// The token a wire value names (0: none).
    public init(wireValue: UInt64) {
        self = wireValue == 0 ? .none : .logIndex(LogIndex(wireValue))
    }

    /// The later of two tokens: a session's token only moves forward.
    public func merged(with other: SessionToken) -> SessionToken {
        logIndex >= other.logIndex ? self : other
    }

    public var description: String { "\(wireValue)" }
}
