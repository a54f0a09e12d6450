import CohortCore
import CohortRaft

/// One thing a ``LeaderGroup`` asks its host to do. A host takes them with
/// ``LeaderGroup/drain()`` and runs every action of a batch, in order, before it hands the
/// group another input (a disk completion included); only the actions that say so may finish
/// later, and their completion is then an input. When running an action fails (a disk write,
/// an apply), the host drops the rest of the batch and calls ``LeaderGroup/stop(because:)``.
public enum LeaderGroupAction: Sendable {
    /// Send these Raft messages to their addressees. They depend on nothing that is not
    /// durable yet (the group orders them after the disk writes they need).
    case send([RaftMessage])
    /// Send a forwarding frame (``ForwardMessage``) to `peer` on this group's id.
    case forward([UInt8], to: NodeID)
    /// Write the ready's snapshot, entries and hard state to the Raft log (recording first, in
    /// the rollback log, any entry with writes that it replaces), then fsync it when `syncs`;
    /// report with ``LeaderGroup/diskCompleted(_:failure:)``, after this batch's actions.
    case persist(DiskOperationID, RaftReady, syncs: Bool)
    /// Start an fsync of the Raft log in the background (a steady leader's entries, written
    /// by an earlier `persist`); report with ``LeaderGroup/backgroundSyncCompleted(_:failure:)``
    /// whenever it ends. When nothing is left unsynced, report at once.
    case syncInBackground(DiskOperationID)
    /// Apply committed writes to the state machine as one atomic group at log index
    /// `sequence` (the last entry that carried writes).
    case apply([[UInt8]: KeyWrite], sequence: LogIndex)
    /// Delete every key, at log index `sequence` (before any `apply` that follows it).
    case applyFlushAll(sequence: LogIndex)
    /// Replace the state machine with the keys of the snapshot with `metadata` (the Raft log
    /// store's current one, received and persisted), at its index: streamed from its file.
    case restoreSnapshot(RaftSnapshotMetadata)
    /// Answer a client's write (or WAIT, or cluster command) with `reply`; `token` is the log
    /// index that carries it (zero when none), the session's new token.
    case reply(RequestID, RESPValue, token: LogIndex)
    /// Open or refuse a client's read.
    case readGate(RequestID, ReadGate)
    /// Default group: save the keyspace catalog durably (the file's bytes), before anything
    /// after it runs.
    case saveCatalog([UInt8])
    /// Default group: the log (or a snapshot) defined or changed a keyspace; the node starts,
    /// changes or keeps its group.
    case keyspaceDefined(KeyspaceDefinition)
    /// Default group: a member's peer address, to save and dial (`knownPeers` holds them all),
    /// from the member entry at `admittedAt` (which readmits a removed node, see `NodeIdentity`).
    case peerLearned(name: String, NodeID, PeerEndpoint, admittedAt: LogIndex)
    /// Take a point-in-time view of the state machine now and stream it (after `catalog`,
    /// default group only) into a snapshot file labelled `metadata`, durably; then put it in
    /// place in the Raft log store, compact the durable log through its index, and report
    /// with ``LeaderGroup/snapshotSaved(_:failure:)``. `urgent`: do it before running anything
    /// else (a node is being added and will be seeded from it); otherwise in the background.
    case takeSnapshot(RaftSnapshotMetadata, catalog: KeyspaceCatalog, urgent: Bool)
    /// Keyspace group: this node has left the keyspace's group; the node stops its copy.
    case leftGroup
    /// The group stopped (a disk or apply failure, or shutdown): every request the host still
    /// holds for it gets `reply`; the group takes no more input.
    case stopped(reason: String, reply: RESPValue)
    /// Something an operator should see in the log.
    case log(GroupLogLevel, String, [String: String])
}

/// Names a disk operation a group asked for, so its completion finds it.
public struct DiskOperationID: Hashable, Sendable, CustomStringConvertible {
    /// The number.
    public var rawValue: UInt64

    /// Wraps a number.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public var description: String { "d\(rawValue)" }
}

/// The level of a group's log line.
public enum GroupLogLevel: Sendable {
    /// Routine events (elections, snapshots).
    case info
    /// Something unusual that the group handled.
    case warning
    /// Something that failed.
    case error
    /// The group stopped.
    case critical
}
