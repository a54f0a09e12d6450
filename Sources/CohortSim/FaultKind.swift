/// A kind of fault the simulator can inject. The command line names them in a comma list
/// (`drop,duplicate,reorder,partition,crash,clock`, or `all`, or `none`).
public enum FaultKind: String, CaseIterable, Comparable, Sendable {
    /// Messages are lost.
    case drop
    /// Messages are delivered twice.
    case duplicate
    /// Messages on one link overtake each other (otherwise each link is FIFO).
    case reorder
    /// The network splits: symmetric groups, one-way (asymmetric) cuts, or a bridge node.
    case partition
    /// Nodes crash, losing unsynced disk writes (the last may be torn), and restart.
    case crash
    /// Node clocks drift apart and occasionally stall.
    case clock

    /// Orders kinds as declared, so lists print in a stable order.
    public static func < (lhs: FaultKind, rhs: FaultKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
