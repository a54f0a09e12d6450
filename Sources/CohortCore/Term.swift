/// A Raft term: a logical epoch that only grows, used as a fencing token (Raft §5.1).
public struct Term: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    public static let zero = Term(0)

    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// The next term. Traps on overflow, which would take 2^64 elections.
    public var next: Term { Term(rawValue + 1) }

    public static func < (lhs: Term, rhs: Term) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "t\(rawValue)" }
}
