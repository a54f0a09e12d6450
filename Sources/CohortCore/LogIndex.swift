/// A position in a replicated log. Index 0 is the empty prefix; the first entry is at 1.
public struct LogIndex: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    public static let zero = LogIndex(0)

    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public var next: LogIndex { LogIndex(rawValue + 1) }

    /// The previous index. Traps at zero: there is nothing before the empty prefix.
    public var previous: LogIndex {
        precondition(rawValue > 0, "LogIndex.zero has no predecessor")
        return LogIndex(rawValue - 1)
    }

    public static func < (lhs: LogIndex, rhs: LogIndex) -> Bool { lhs.rawValue < rhs.rawValue }

    public static func + (lhs: LogIndex, rhs: UInt64) -> LogIndex { LogIndex(lhs.rawValue + rhs) }

    public var description: String { "i\(rawValue)" }
}
