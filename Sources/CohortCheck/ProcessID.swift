/// Identifies the client (or logical process) that issued an operation of a ``History``.
///
/// As in Jepsen, a process performs one operation at a time: it invokes, then waits for the
/// completion before invoking again. A client whose operation ended indeterminate (`info`) should
/// continue under a fresh process id, because the old operation may still take effect.
public struct ProcessID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The raw value.
    public var rawValue: UInt64

    /// Creates a process id from its raw value.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// Orders process ids by raw value.
    public static func < (lhs: ProcessID, rhs: ProcessID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Renders as `p<raw>`, the form the history text format uses.
    public var description: String { "p\(rawValue)" }
}
