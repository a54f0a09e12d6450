/// What a node reads back from its disk when it restarts: everything the driver persisted
/// from earlier ``RaftReady`` values.
public struct RaftDurableState: Hashable, Sendable {
    /// The last persisted hard state.
    public var hardState: RaftHardState
    /// The latest persisted snapshot, if any.
    public var snapshot: RaftSnapshot?
    /// The persisted entries after the snapshot, contiguous and ascending.
    public var entries: [RaftEntry]

    /// Nothing persisted yet: a brand-new node.
    public static let empty = RaftDurableState(hardState: .initial, snapshot: nil, entries: [])

    /// Creates a durable state.
    public init(hardState: RaftHardState, snapshot: RaftSnapshot?, entries: [RaftEntry]) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
    }
}
