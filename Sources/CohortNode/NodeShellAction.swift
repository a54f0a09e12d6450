import CohortCore
import CohortReplication

/// What a ``NodeShell`` asks its host to do (the Directive of the Instance/Shell/Directive
/// pattern): open, update and close keyspace groups, send proxy frames, serve a proxied
/// command on a local group, and answer the host's proxied requests.
public enum NodeShellAction: Sendable {
    /// Open keyspace `definition`'s group (its engine and log under the keyspace's directory)
    /// and start it. Report ``NodeShell/groupOpenFailed(_:)`` if that fails.
    case openGroup(KeyspaceDefinition)
    /// This node starts outside keyspace `definition`: if a Raft log of it remains here (the
    /// node was removed and crashed before its group left), record the writes that log holds
    /// beyond what the node knew committed (``LeaderGroupRuntime/recordOrphanedEntries``).
    case sweepGroup(KeyspaceDefinition)
    /// Hand the running group of a keyspace its new definition.
    case updateGroup(KeyspaceDefinition)
    /// Stop the group and close its engine, then report ``NodeShell/groupClosed(_:)``; its data
    /// stays on disk.
    case closeGroup(GroupID, keyspace: String)
    /// Send a proxy frame (``ForwardMessage``) to `peer`, on group `group`.
    case sendForward([UInt8], to: NodeID, group: GroupID)
    /// Run a command proxied here on the local group it names, as this node's own client
    /// would, and send ``NodeShell/proxyAnswer(to:reply:token:)``.
    case serveProxied(ProxiedCommand)
    /// The answer to the host's request: the reply and the session's new token (0: none).
    case complete(RequestID, reply: RESPValue, token: UInt64)
    /// A line for the node's log.
    case log(GroupLogLevel, String, [String: String])
}

/// A command another node proxied to this one (see ``ForwardMessage/proxied``).
public struct ProxiedCommand: Sendable {
    /// The node that waits for the answer.
    public var peer: NodeID
    /// The keyspace's group.
    public var group: GroupID
    /// The sender's id for the request.
    public var id: UInt64
    /// The command.
    public var arguments: [[UInt8]]
    /// The client session's token, acknowledgement mode and read consistency.
    public var token: UInt64
    public var ackMode: AckMode
    public var consistency: ReadConsistency
}
