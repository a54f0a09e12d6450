import CohortCore

/// One write's identity in a leaderless keyspace: the replica that coordinated it and a counter
/// (the "dot" of dotted version vectors, Preguiça, Baquero et al.). Counters come from one
/// node-wide sequence whose high-water mark is reserved durably before a dot above it leaves
/// the node, so no two writes ever share a dot: not across a crash, and not after a key's
/// tombstone was collected and the key written again (``LeaderlessGroup``).
public struct Dot: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The replica that coordinated the write.
    public var replica: NodeID
    /// That replica's counter for the key, from 1.
    public var counter: UInt64

    public init(replica: NodeID, counter: UInt64) {
        self.replica = replica
        self.counter = counter
    }

    public static func < (lhs: Dot, rhs: Dot) -> Bool {
        (lhs.replica, lhs.counter) < (rhs.replica, rhs.counter)
    }

    public var description: String { "\(replica):\(counter)" }
}
