/// Identifies one node of a cluster. Distinct from every other number so that a node id can
/// never be passed where a term or an index is meant.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The raw value. Zero is reserved to mean "no node".
    public var rawValue: UInt64

    /// The reserved value meaning "no node" (for example, "voted for nobody").
    public static let none = NodeID(0)

    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "n\(rawValue)" }
}
