import CohortCore
import CohortReplication

/// Per-connection state that commands read and change: the connection is the session.
public struct ClientSession: Sendable {
    /// Unique within a server process, as CLIENT ID reports it.
    public let id: UInt64
    /// Peer address, for CLIENT INFO/LIST and logs.
    public var address: String
    /// The protocol version the client chose with HELLO (2 until it says otherwise).
    public var protocolVersion: RESPVersion = .resp2
    /// False until AUTH or HELLO AUTH succeeds, when a password is configured.
    public var authenticated: Bool
    /// Set by CLIENT SETNAME.
    public var name: [UInt8]?
    /// Set by CLIENT SETINFO LIB-NAME / LIB-VER (redis-py and others send them).
    public var libraryName: String?
    public var libraryVersion: String?
    /// The session's causal token: the highest log index it wrote or observed. Replicas serve
    /// its session reads only once they have applied this far (COHORT TOKEN / SESSION).
    public var token: UInt64 = 0
    /// What the session's reads ask for (COHORT CONSISTENCY).
    public var readConsistency: ReadConsistency = .linearizable
    /// When the session's writes are acknowledged (COHORT ACK); nil means the keyspace's
    /// default.
    public var ackMode: AckMode?
    /// The keyspace the session's commands address (COHORT USE).
    public var keyspace = KeyspaceDefinition.defaultName
    /// The session's tokens in the keyspaces it is not using now: a token is a position in
    /// one keyspace's log, so each keyspace keeps its own.
    public var tokensByKeyspace: [String: UInt64] = [:]
    /// The commands queued since MULTI; nil outside a transaction.
    public var queued: QueuedTransaction?
    /// The keys WATCHed since the last EXEC, DISCARD or UNWATCH.
    public var watched: [WatchedKey] = []

    /// A session that stands in while the real one is lent to a command.
    static let placeholder = ClientSession(id: 0, address: "", authenticated: false)

    public init(id: UInt64, address: String, authenticated: Bool) {
        self.id = id
        self.address = address
        self.authenticated = authenticated
    }
}
