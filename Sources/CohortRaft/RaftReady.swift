/// Everything a node asks its driver to do, taken with ``RaftNode/ready()``. The driver must,
/// in this order:
///
/// 1. write `snapshotChunks` (the data of a snapshot being received), persist `snapshot`
///    (replacing the whole durable log with it; its data is the chunks received), then truncate the durable
///    log at `entriesToAppend.first.index` (dropping that entry and all after it) and append
///    `entriesToAppend`, then persist `hardState` — and sync;
/// 2. only then send `messages` (they may depend on that state: a vote is sent only once it is
///    durable, an acknowledgement only once the entries are);
/// 3. restore the state machine from `snapshot`, then apply `committedEntries` in order, and
///    serve the reads in `readStates` once their index is applied;
/// 4. call ``RaftNode/advance(_:)`` with this value.
///
/// A driver that crashes between steps restarts from what it persisted, which is safe.
public struct RaftReady: Hashable, Sendable {
    /// The hard state to persist, when it changed since the last ready.
    public var hardState: RaftHardState?
    /// Entries to append durably; any durable entries at or after the first one's index are
    /// discarded first.
    public var entriesToAppend: [RaftEntry]
    /// Pieces of a snapshot being received, in order, to write before anything else.
    public var snapshotChunks: [RaftSnapshotChunk]
    /// A snapshot received from the leader, whose data is the chunks written for it (this
    /// ready's and earlier ones'), to persist and restore from. On a witness its size is zero
    /// (witnesses keep no state-machine data): persist it, restore nothing.
    public var snapshot: RaftSnapshot?
    /// Messages to send once everything above is durable.
    public var messages: [RaftMessage]
    /// Committed entries to apply, in order. They are durable locally already.
    public var committedEntries: [RaftEntry]
    /// Answers to ReadIndex requests.
    public var readStates: [RaftReadState]
    /// The role, leader and term, when any of them changed since the last ready.
    public var softState: RaftSoftState?

    /// Creates a ready.
    public init(
        hardState: RaftHardState? = nil, entriesToAppend: [RaftEntry] = [],
        snapshotChunks: [RaftSnapshotChunk] = [], snapshot: RaftSnapshot? = nil,
        messages: [RaftMessage] = [], committedEntries: [RaftEntry] = [],
        readStates: [RaftReadState] = [], softState: RaftSoftState? = nil
    ) {
        self.hardState = hardState
        self.entriesToAppend = entriesToAppend
        self.snapshotChunks = snapshotChunks
        self.snapshot = snapshot
        self.messages = messages
        self.committedEntries = committedEntries
        self.readStates = readStates
        self.softState = softState
    }

    /// True when there is nothing to do.
    public var isEmpty: Bool {
        hardState == nil && entriesToAppend.isEmpty && snapshotChunks.isEmpty && snapshot == nil
            && messages.isEmpty
            && committedEntries.isEmpty && readStates.isEmpty && softState == nil
    }

    /// True when step 1 has something to write.
    public var needsPersistence: Bool {
        hardState != nil || !entriesToAppend.isEmpty || !snapshotChunks.isEmpty || snapshot != nil
    }
}
