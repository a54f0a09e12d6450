import CohortCore

/// One write's identity in a leaderless keyspace: the replica that coordinated it and that
/// replica's per-key counter (the "dot" of dotted version vectors, Preguiça, Baquero et al.).
/// A replica makes a dot only from a key's state it holds durably, so no two writes ever share
/// one, even across a crash (see ``LeaderlessReplica``).
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
