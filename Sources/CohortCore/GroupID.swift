/// A replication group's id on the wire and in a node's routing table. Group 0 is the default
/// keyspace's group, which also carries the cluster's membership and keyspace catalog; a
/// keyspace's group id is derived from its name (see `KeyspaceDefinition.groupID(named:)`).
public struct GroupID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The id as it crosses the wire.
    public var rawValue: UInt64

    /// The default keyspace's group.
    public static let defaultGroup = GroupID(0)

    /// Wraps a wire value.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// Whether this is the default keyspace's group.
    public var isDefault: Bool { rawValue == 0 }

    public static func < (lhs: GroupID, rhs: GroupID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "g\(rawValue)" }
}
