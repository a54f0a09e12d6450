import CohortCore

/// One concurrent version of a leaderless key: the write's dot, its hybrid-logical-clock stamp
/// (for `lww` keyspaces and for operators), and its value, or nil for a delete's tombstone.
public struct Sibling: Hashable, Sendable, CustomStringConvertible {
    public var dot: Dot
    public var stamp: HLCTimestamp
    /// The value written; nil for a tombstone.
    public var value: [UInt8]?

    public init(dot: Dot, stamp: HLCTimestamp, value: [UInt8]?) {
        self.dot = dot
        self.stamp = stamp
        self.value = value
    }

    public var isTombstone: Bool { value == nil }

    public var description: String {
        "\(dot)=" + (value.map { String(decoding: $0, as: UTF8.self) } ?? "<deleted>")
    }
}
