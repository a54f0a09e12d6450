import CohortCore

/// The `(sender, id)` deliveries a node has acted on, so that a frame the network delivers
/// twice (a duplicate, a retransmission after a reconnect) is acted on once: a forwarded write
/// at a leader, a proxied command at a keyspace's member. Bounded: past ``countMax`` the oldest
/// are forgotten, far more than a sender has in flight within a delivery's lifetime. What it
/// holds is lost with the process; a sender's ids start at a random point per life, so a new
/// request is never taken for an old one.
public struct DeliveryFilter: Sendable {
    struct Key: Hashable, Sendable {
        var peer: NodeID
        var id: UInt64
    }

    /// Deliveries remembered.
    public let countMax: Int
    private var seen: Set<Key> = []
    /// Keys in arrival order from `start` on (the ones before are forgotten).
    private var order: [Key] = []
    private var start = 0

    /// An empty filter remembering up to `countMax` deliveries.
    public init(countMax: Int) {
        precondition(countMax > 0, "a delivery filter remembers at least one delivery")
        self.countMax = countMax
    }

    /// Deliveries remembered now.
    public var count: Int { seen.count }

    /// Records the delivery of `id` from `peer`; false when it was recorded before.
    public mutating func firstDelivery(from peer: NodeID, id: UInt64) -> Bool {
        let key = Key(peer: peer, id: id)
        guard seen.insert(key).inserted else { return false }
        order.append(key)
        if order.count - start > countMax {
            seen.remove(order[start])
            start += 1
            if start >= order.count / 2 {
                order.removeFirst(start)
                start = 0
            }
        }
        return true
    }
}
