/// Names a request a host handed to a replication group (a client's write or read, a forwarded
/// request), so that the group's answer, which may come many inputs later, finds its way back
/// without the group holding a closure. Unique per host and group while the request is open.
public struct RequestID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The number.
    public var rawValue: UInt64

    /// Wraps a number.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (lhs: RequestID, rhs: RequestID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "r\(rawValue)" }
}
