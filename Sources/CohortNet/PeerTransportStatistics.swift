/// Counters of one ``PeerTransport`` since it started, for status output and tests.
public struct PeerTransportStatistics: Hashable, Sendable {
    /// Raft messages written to a peer connection.
    public var messagesSent = 0
    /// Raft messages received, decoded and delivered.
    public var messagesReceived = 0
    /// Messages dropped because a peer's outbound queue was full (the oldest go first).
    public var messagesDroppedQueueFull = 0
    /// Messages addressed to a node that is not a configured peer (or to this node).
    public var messagesDroppedUnknownPeer = 0
    /// Received messages whose sender or receiver did not match the authenticated connection.
    public var messagesDroppedMisaddressed = 0
    /// Outbound connections that completed the handshake.
    public var connectionsEstablished = 0
    /// Inbound connections that completed the handshake.
    public var connectionsAccepted = 0
    /// Handshakes refused in either direction (wrong secret, cluster or node).
    public var handshakesRejected = 0
    /// Handshakes refused because the peer's data directory is not the one this node
    /// remembers (``NodeIdentity``); also counted in `handshakesRejected`.
    public var incarnationsRefused = 0
    /// Connections closed for malformed frames or messages, or for a handshake timeout.
    public var protocolErrors = 0
    /// Connection attempts that failed or were lost, each followed by a backoff delay.
    public var reconnectsScheduled = 0

    /// All zero.
    public init() {}
}
