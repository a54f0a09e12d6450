import CohortCore
import CohortRaft

/// One simulated server: a Raft node, its disk, its state machine, its clock, and the
/// driver's bookkeeping between a ready and its advance.
struct SimulatedNode: Sendable {
    /// A proposal the node made for a client, answered when its entry applies.
    struct PendingProposal: Sendable {
        var term: Term
        var client: Int
        var sequence: UInt64
    }

    /// A read the node serves once its state machine reaches `index`.
    struct PendingRead: Sendable {
        var client: Int
        var sequence: UInt64
        var key: Int
        var index: LogIndex?
    }

    /// The node's id.
    let id: NodeID
    /// The running Raft node; nil while crashed or not started.
    var raft: RaftNode?
    /// Durable storage that survives crashes.
    var disk = SimDisk(image: RaftDiskImage())
    /// The key-value state machine (volatile: rebuilt from the snapshot and log on restart).
    var machine = KeyValueStateMachine()
    /// Bumped at every start, so events of an earlier life are recognized.
    var incarnation = 0
    /// The node's tick period, nominal tick times its drift.
    var tickMicros: UInt64
    /// A ready whose persistence awaits an fsync; its messages wait with it.
    var outstandingReady: RaftReady?
    /// The fsync that `outstandingReady` waits for.
    var outstandingSync: SimDisk<RaftDiskImage>.SyncToken?
    /// The membership a fresh start of this node begins with: the initial voters for the
    /// first members, empty for nodes added later (they learn it from the leader).
    var bootstrapMembership: RaftMembership = .empty
    /// Ticks the node's clock will skip before its next tick (a stalled clock).
    var stallTicks = 0
    /// The last index of the log as if every issued disk write had landed.
    var writtenLastIndex = LogIndex.zero
    /// Client proposals by log index.
    var proposals: [LogIndex: PendingProposal] = [:]
    /// ReadIndex requests by request id.
    var readRequests: [UInt64: PendingRead] = [:]
    /// Reads whose index is known, waiting for the state machine.
    var readsAwaitingApply: [PendingRead] = []
    /// The next ReadIndex request id.
    var nextReadRequestID: UInt64 = 1
    /// The log as the checker sees it.
    var observedLog = ObservedLog()
    /// Whether the node should be running (false for spares and removed nodes).
    var isMember: Bool
    /// A node removed from the group never comes back under the same id: a rejoining node with
    /// a stale log and configuration is a known hazard real systems avoid by issuing new ids.
    var isRetired = false
    /// The commit index after the node's previous event.
    var commitSeen = LogIndex.zero
    /// The term the node led after its previous event, if it led.
    var leaderTermSeen: Term?
    /// Events handled by this node, to pace invariant checks.
    var eventsHandled = 0

    /// A node that is not running yet.
    init(id: NodeID, tickMicros: UInt64, isMember: Bool) {
        self.id = id
        self.tickMicros = tickMicros
        self.isMember = isMember
    }

    /// Whether the node is running.
    var isUp: Bool { raft != nil }
}
