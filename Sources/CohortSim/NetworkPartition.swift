import CohortCore

/// Which directed links of the simulated network are cut. Checked when a message would be
/// delivered, so a message already in flight when a partition starts is lost too.
public enum NetworkPartition: Hashable, Sendable, CustomStringConvertible {
    /// Every node hears every other.
    case none
    /// The nodes split into groups; only nodes in one group hear each other. A node in no
    /// group is isolated.
    case symmetric(groups: [[NodeID]])
    /// One-way cut: messages from any node in `senders` to any node in `receivers` are lost,
    /// while the reverse direction still works (the receivers are heard, but do not hear).
    case asymmetric(senders: [NodeID], receivers: [NodeID])
    /// Two halves that cannot hear each other, both connected to `bridge`, which hears all.
    case bridge(left: [NodeID], right: [NodeID], bridge: NodeID)

    /// True when a message from `sender` to `receiver` is delivered.
    public func allows(from sender: NodeID, to receiver: NodeID) -> Bool {
        if sender == receiver { return true }
        switch self {
        case .none:
            return true
        case .symmetric(let groups):
            return groups.contains { $0.contains(sender) && $0.contains(receiver) }
        case .asymmetric(let senders, let receivers):
            return !(senders.contains(sender) && receivers.contains(receiver))
        case .bridge(let left, let right, let bridge):
            if sender == bridge || receiver == bridge { return true }
            let crossesLeftToRight = left.contains(sender) && right.contains(receiver)
            let crossesRightToLeft = right.contains(sender) && left.contains(receiver)
            return !(crossesLeftToRight || crossesRightToLeft)
        }
    }

    /// A short, stable rendering for logs and the trace.
    public var description: String {
        func list(_ nodes: [NodeID]) -> String { nodes.map(\.description).joined(separator: ",") }
        switch self {
        case .none:
            return "none"
        case .symmetric(let groups):
            return "symmetric(" + groups.map { "[" + list($0) + "]" }.joined(separator: "|") + ")"
        case .asymmetric(let senders, let receivers):
            return "asymmetric([\(list(senders))]-/->[\(list(receivers))])"
        case .bridge(let left, let right, let bridge):
            return "bridge([\(list(left))]<-\(bridge)->[\(list(right))])"
        }
    }
}
