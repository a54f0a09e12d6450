import CohortCore

/// What a ``LeaderlessGroup`` asks its host to do, in order.
public enum LeaderlessAction: Hashable, Sendable {
    /// Send `message` to `peer` (encoded with ``LeaderlessMessageCodec``).
    case send(LeaderlessMessage, to: NodeID)
    /// Store `state` as `key`'s state durably (an empty state: remove the key), then report
    /// ``LeaderlessGroup/diskCompleted(_:now:)`` with the id. Operations complete in order.
    case persist(DiskOperationID, key: [UInt8], state: SiblingSet)
    /// Store durably that this node's dot counters may reach `floor` (a restart continues
    /// above it), then report ``LeaderlessGroup/diskCompleted(_:now:)``.
    case persistDotFloor(DiskOperationID, UInt64)
    /// Store `state` durably as the hint this node keeps of `key` for its home replica `home`
    /// (nil: the hint was handed off; remove it), then report
    /// ``LeaderlessGroup/diskCompleted(_:now:)``. Hints are kept apart from the node's own
    /// keys and survive restarts.
    case persistHint(DiskOperationID, home: NodeID, key: [UInt8], state: SiblingSet?)
    /// Answer a client's write.
    case writeDone(RequestID, LeaderlessWriteResult)
    /// Answer a client's read.
    case readDone(RequestID, LeaderlessReadResult)
}

/// How a leaderless client read ended.
public enum LeaderlessReadResult: Hashable, Sendable {
    /// The merge of the states R replicas answered (empty when none holds the key), and how
    /// many had answered.
    case found(SiblingSet, replies: Int)
    /// Fewer than R replicas answered in time, with the reason.
    case failed(String)
}

/// Counters a leaderless group keeps for status and metrics.
public struct LeaderlessStatistics: Hashable, Sendable {
    public var writesAcknowledged = 0
    public var writesFailed = 0
    public var readsAnswered = 0
    public var readsFailed = 0
    /// Repairs a read sent to replicas that answered an older state.
    public var readRepairs = 0
    /// Anti-entropy exchanges started.
    public var antiEntropyExchanges = 0
    /// Keys whose state an anti-entropy exchange changed here.
    public var antiEntropyKeysRepaired = 0
    /// Copies of writes this coordinator sent to fallback nodes for unreachable replicas.
    public var hintedWrites = 0
    /// Hints this node refused because it held ``LeaderlessConfiguration/hintsPerTargetMax``
    /// for the target already.
    public var hintsRefused = 0
    /// Hints handed off to their home replicas from here.
    public var hintsHandedOff = 0
    /// Tombstones collected here once every home replica held them.
    public var tombstonesCollected = 0
    /// Client writes taken although their key then held more than half the sibling limit.
    public var siblingWarnings = 0
    /// Client writes refused because their key would exceed the sibling limit.
    public var siblingRefusals = 0

    public init() {}
}
