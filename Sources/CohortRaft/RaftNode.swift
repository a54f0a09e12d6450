import CohortCore

/// One member of a Raft group as a state machine without I/O (DESIGN.md §3, STYLE.md
/// "Sans-I/O core"), modelled on etcd's `RawNode`/`Ready`.
///
/// Inputs are events: ``tick()``, ``receive(_:)``, ``propose(_:)``,
/// ``proposeMembershipChange(_:)``, ``readIndex(requestID:)``, ``transferLeadership(to:)``,
/// ``campaign()``, ``compact(upTo:snapshotData:)``. Outputs accumulate until the driver takes
/// them as a ``RaftReady``. A driver loops:
///
/// ```swift
/// node.tick()                      // every tick interval
/// node.receive(message)            // for each delivered message
/// while node.hasReady {
///     let ready = node.ready()
///     disk.persist(ready.snapshot, ready.entriesToAppend, ready.hardState)  // then sync
///     network.send(ready.messages)                                         // only after sync
///     stateMachine.restore(ready.snapshot); stateMachine.apply(ready.committedEntries)
///     node.advance(ready)
/// }
/// ```
///
/// Only one ready may be outstanding at a time; events may arrive between ``ready()`` and
/// ``advance(_:)``. Every message depends on the ready's durable state, so all messages are
/// sent after it is persisted (etcd's rule, applied to every message for simplicity).
///
/// Randomness (election timeouts) comes from a ``SplitMix64`` seeded at creation, so a run
/// is a function of its inputs and seed.
///
/// Decisions worth knowing:
/// - A witness never campaigns, so it never leads (it has no data to serve).
/// - Membership changes are single-server changes applied when appended; the leader allows
///   one only after the previous is committed and after an entry of its own term commits.
/// - The leader counts itself for commits only through its durable (advanced) entries.
/// - Lease reads happen only when ``RaftConfig/leaseClockDriftBoundTicks`` is set.
///
/// Drivers must also know:
/// - A node added to a running group is created, and restarted until its disk holds a
///   membership, with ``RaftMembership/empty``; only the founding members pass the initial
///   membership.
/// - On a witness, ``RaftReady/snapshot`` carries no data and committed normal entries arrive
///   as ``RaftEntryKind/normalDataOmitted``: persist them, apply nothing.
/// - ``compact(upTo:snapshotData:)`` needs `index <= appliedIndex`; the driver persists the
///   snapshot it made before dropping the durable log prefix.
///
/// API stability: this surface is used by CohortSim and CohortCheck. Changes since the first
/// commit are additive only: ``leaderProgress(of:)``, ``RaftMessageBody/isFromLeader``,
/// ``RaftMessageBody/isLeaderBound``, ``RaftAppendEntriesRequest/isWellFormed(term:)``.
public struct RaftNode: Sendable {
    /// This node.
    public let id: NodeID
    /// Its tunables.
    public let config: RaftConfig
    /// The current term; never decreases.
    public internal(set) var term: Term
    /// The candidate voted for in `term`, if any.
    public internal(set) var votedFor: NodeID?
    /// The role, with role-specific state.
    public internal(set) var role: RaftRole
    /// The membership in effect: the latest membership entry in the log, else the snapshot's,
    /// else the bootstrap membership.
    public internal(set) var membership: RaftMembership
    /// The log index of the entry that set `membership` (the snapshot index or zero otherwise).
    public internal(set) var membershipIndex: LogIndex
    /// Ticks seen since creation; the leader's lease is measured on it.
    public internal(set) var ticksTotal: UInt64 = 0

    var log: RaftLog
    var latestSnapshot: RaftSnapshot?
    var random: SplitMix64
    var electionElapsedTicks = 0
    var randomizedElectionTimeoutTicks = 0
    var heartbeatElapsedTicks = 0
    var outboundMessages: [RaftMessage] = []
    var outboundReadStates: [RaftReadState] = []
    var emittedHardState: RaftHardState
    var emittedSoftState: RaftSoftState
    var snapshotToPersist: RaftSnapshot?
    /// Received snapshot chunks for the host to write (see ``RaftReady/snapshotChunks``).
    var snapshotChunksToPersist: [RaftSnapshotChunk] = []
    var incomingSnapshot: RaftIncomingSnapshot?
    var readyOutstanding = false
    var appendBroadcastPending = false
    var commitBroadcastPending = false
    var readRoundPending = false

    /// Creates a node, fresh or restarted.
    ///
    /// - Parameters:
    ///   - id: this node.
    ///   - config: its tunables (validated).
    ///   - membership: the group's initial membership, used only while neither the snapshot
    ///     nor the log holds a membership. A node that is to be added later passes
    ///     ``RaftMembership/empty`` and learns the membership from the leader.
    ///   - durableState: what the driver persisted before a restart (``RaftDurableState/empty``
    ///     for a new node).
    ///   - appliedIndex: the highest index the state machine already reflects; by default the
    ///     snapshot's index, so committed entries after it are handed out again.
    ///   - randomSeed: seeds the election-timeout generator.
    public init(
        id: NodeID, config: RaftConfig, membership: RaftMembership,
        durableState: RaftDurableState = .empty, appliedIndex: LogIndex? = nil, randomSeed: UInt64
    ) {
        config.validate()
        precondition(id != .none, "NodeID.none cannot run a Raft node")
        self.id = id
        self.config = config
        self.random = SplitMix64(seed: randomSeed)
        var log = RaftLog(
            snapshot: durableState.snapshot?.metadata, bootstrapMembership: membership,
            entries: durableState.entries)
        let hardState = durableState.hardState
        precondition(
            hardState.commitIndex <= log.lastIndex,
            "\(id): persisted commit \(hardState.commitIndex) beyond persisted log \(log.lastIndex)"
        )
        log.committed = max(log.committed, hardState.commitIndex)
        if let appliedIndex {
            precondition(
                appliedIndex >= log.snapshotIndex && appliedIndex <= log.committed,
                "\(id): applied \(appliedIndex) outside \(log.snapshotIndex)...\(log.committed)")
            log.applied = appliedIndex
            log.applyingThrough = appliedIndex
        }
        self.log = log
        self.latestSnapshot = durableState.snapshot
        self.term = hardState.term
        self.votedFor = hardState.votedFor
        self.role = .follower(leader: nil)
        self.membership = log.membership(at: log.lastIndex)
        self.membershipIndex = log.membershipIndex(at: log.lastIndex)
        self.emittedHardState = hardState
        self.emittedSoftState = RaftSoftState(role: .follower, leader: nil, term: hardState.term)
        resetElectionTimer()
    }

    // MARK: Read-only state for drivers and checkers

    /// The leader this node knows for its term, if any.
    public var leader: NodeID? {
        switch role {
        case .follower(let leader): return leader
        case .leader: return id
        case .preCandidate, .candidate: return nil
        }
    }

    /// Whether this node leads its term.
    public var isLeader: Bool {
        if case .leader = role { return true }
        return false
    }

    /// The highest index known committed; never decreases.
    public var commitIndex: LogIndex { log.committed }
    /// The highest index the driver confirmed applied.
    public var appliedIndex: LogIndex { log.applied }
    /// The highest index known durable locally.
    public var stableIndex: LogIndex { log.stable }
    /// The first index held in memory (one past the snapshot).
    public var firstIndex: LogIndex { log.firstIndex }
    /// The last index of the log.
    public var lastIndex: LogIndex { log.lastIndex }
    /// The term of the last entry (or of the snapshot when the log is empty).
    public var lastTerm: Term { log.lastTerm }
    /// The index of the last compacted entry (zero when nothing was compacted).
    public var snapshotIndex: LogIndex { log.snapshotIndex }
    /// The term of the entry at `snapshotIndex`.
    public var snapshotTerm: Term { log.snapshotTerm }
    /// The latest snapshot this node holds (taken locally or received), if any.
    public var snapshot: RaftSnapshot? { latestSnapshot }
    /// The entries held in memory, contiguous from `firstIndex`.
    public var entries: [RaftEntry] { log.entries }
    /// The entry at `index`, if held in memory.
    public func entry(at index: LogIndex) -> RaftEntry? { log.entry(at: index) }
    /// The term of the entry at `index`, if known.
    public func term(at index: LogIndex) -> Term? { log.term(at: index) }

    /// The current hard state (what the next ready would persist).
    public var hardState: RaftHardState {
        RaftHardState(term: term, votedFor: votedFor, commitIndex: log.committed)
    }

    /// The current role, leader and term.
    public var softState: RaftSoftState {
        RaftSoftState(role: role.kind, leader: leader, term: term)
    }

    /// Whether this node may campaign: only full-data voters can lead.
    public var isPromotable: Bool { membership.voters.contains(id) }
}

extension RaftNode {
    /// The leader's view of `peer`'s log, or nil on a non-leader or for a non-member.
    public func leaderProgress(of peer: NodeID) -> RaftProgress? {
        guard case .leader(let state) = role else { return nil }
        return state.progress[peer]
    }
}
