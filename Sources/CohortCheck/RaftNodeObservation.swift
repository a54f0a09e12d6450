import CohortCore

/// What the ``RaftSafetyChecker`` needs to know about one Raft node at one instant. Neutral on
/// purpose: CohortCheck does not depend on CohortRaft, so a driver (the simulator, a
/// multi-process test) converts its node state into this.
public struct RaftNodeObservation: Hashable, Sendable {
    /// The node observed.
    public var node: NodeID
    /// The node's current term.
    public var term: Term
    /// Whether the node currently believes it is the leader of ``term``.
    public var isLeader: Bool
    /// The highest index the node knows to be committed.
    public var commitIndex: LogIndex
    /// The highest index the node has applied to its state machine.
    public var appliedIndex: LogIndex
    /// The first index still held in the log; everything below was compacted into a snapshot.
    /// `LogIndex(1)` when nothing was compacted.
    public var firstIndex: LogIndex
    /// The entries held in memory, contiguous and ascending from ``firstIndex``.
    public var entries: [ObservedEntry]

    /// Creates an observation.
    ///
    /// - Precondition: `entries` are contiguous and ascending, starting at `firstIndex`.
    public init(
        node: NodeID, term: Term, isLeader: Bool, commitIndex: LogIndex,
        appliedIndex: LogIndex, firstIndex: LogIndex = LogIndex(1), entries: [ObservedEntry]
    ) {
        precondition(firstIndex.rawValue >= 1, "firstIndex of \(node) must be at least 1")
        for (offset, entry) in entries.enumerated() {
            precondition(
                entry.index == firstIndex + UInt64(offset),
                "entries of \(node) not contiguous from \(firstIndex): \(entry) at offset \(offset)"
            )
        }
        self.node = node
        self.term = term
        self.isLeader = isLeader
        self.commitIndex = commitIndex
        self.appliedIndex = appliedIndex
        self.firstIndex = firstIndex
        self.entries = entries
    }

    /// The last index the log holds, or `firstIndex - 1` when it holds nothing.
    public var lastIndex: LogIndex { LogIndex(firstIndex.rawValue + UInt64(entries.count) - 1) }

    /// The entry at `index` if the log holds it in memory.
    public func entry(at index: LogIndex) -> ObservedEntry? {
        guard index >= firstIndex, index.rawValue - firstIndex.rawValue < UInt64(entries.count)
        else { return nil }
        return entries[Int(index.rawValue - firstIndex.rawValue)]
    }
}
