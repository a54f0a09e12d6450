import CohortCore

/// The seam every replication strategy plugs into (DESIGN.md §2–§3): a keyspace's group on
/// one node, as a pure state machine. No clock (time comes in as a monotonic `now`), no
/// socket (peer messages come in decoded and leave as actions), no file (disk work leaves as
/// actions and comes back as completions), no thread and no global random.
///
/// The single-leader group (``LeaderGroup``, Raft) is the first; multi-leader and leaderless
/// groups are the next, each with its own `Message` and `Action` types. What every group
/// promises its host, whatever the strategy, is checked for all of them by the same contract
/// tests (`ReplicationGroupContractTests`):
///
/// - every client request it takes (`submitWrite`, `submitRead`) is answered exactly once by
///   its ``RequestID`` (an `Action` whose ``ReplicationGroupAction/answeredRequest`` names
///   it), or by the ``ReplicationGroupAction/stopReply`` of the stop that ends the group;
/// - after ``stop(because:)`` or ``shutDown()`` it takes no more input: new requests are
///   answered at once with an error, and a stopping action tells the host to fail what it
///   still holds;
/// - a host runs the actions of one ``drain()`` in order, then calls
///   ``finishedActions()`` before it hands the group another input.
public protocol ReplicationGroup: Sendable {
    /// What the group asks its host to do.
    associatedtype Action: ReplicationGroupAction
    /// The strategy's peer messages, as its codec decodes them.
    associatedtype Message: Sendable

    /// The keyspace group this is.
    var groupID: GroupID { get }
    /// This node.
    var nodeID: NodeID { get }
    /// Whether the group stopped (a failure, or shutdown) and takes no more input.
    var isStopped: Bool { get }

    /// Time passed: `now` is the monotonic and wall clock as the host read them.
    mutating func tick(now: GroupTime)
    /// A peer's message arrived.
    mutating func receive(_ message: Message, now: GroupTime)
    /// A peer's forwarding frame (a client request it passed on, or its answer) arrived.
    mutating func receiveForward(_ payload: [UInt8], from peer: NodeID, now: GroupTime)
    /// A client's write, answered later by `request`.
    mutating func submitWrite(
        _ request: RequestID, arguments: [[UInt8]], token: SessionToken, ackMode: AckMode,
        now: GroupTime)
    /// A client's read: answered later by `request` with a gate that opens or refuses it.
    mutating func submitRead(
        _ request: RequestID, consistency: ReadConsistency, token: SessionToken, now: GroupTime)
    /// The keyspace's definition changed (members, acknowledgement mode).
    mutating func updateKeyspace(_ definition: KeyspaceDefinition)
    /// Takes the actions produced since the last drain.
    mutating func drain() -> [Action]
    /// The host ran every action of the last drain.
    mutating func finishedActions()
    /// Stops the group after a failure it cannot serve through (a disk that lost a write).
    mutating func stop(because reason: String)
    /// Stops the group cleanly (the node is stopping).
    mutating func shutDown()
}

/// What every strategy's actions tell a host in common, so that hosts and contract tests can
/// account for client requests without knowing the strategy.
public protocol ReplicationGroupAction: Sendable {
    /// The client request this action answers (a reply or a read gate), if it answers one.
    var answeredRequest: RequestID? { get }
    /// When this action stops the group: the error every request the host still holds gets.
    var stopReply: RESPValue? { get }
}
