import CohortCore
import CohortRaft

/// Everything a ``PeerTransport`` needs: who this node is, whom it talks to, the shared secret,
/// and every bound and timeout of the peer connections.
public struct PeerTransportConfiguration: Sendable {
    /// This node.
    public var nodeID: NodeID
    /// Must be the same on every node of the cluster; a node of another cluster is refused.
    public var clusterName: String
    /// The shared cluster secret; see ``PeerAuthenticator`` for what it does and does not
    /// protect against.
    public var clusterSecret: String
    /// The address the peer port listens on (loopback unless configured otherwise).
    public var bindHost: String = "127.0.0.1"
    /// The peer port; 0 picks a free port (``PeerTransport/start()`` returns it).
    public var port: Int = 0
    /// Every other node this one sends to, dialled at exactly the address given.
    public var peers: [NodeID: PeerAddress]

    /// Messages queued per peer before the oldest is dropped.
    public var outboundQueueMessagesMax: Int = 4_096
    /// Encoded bytes queued per peer before the oldest message is dropped.
    public var outboundQueueBytesMax: Int = 64 << 20
    /// Messages written per flush (one socket write).
    public var batchMessagesMax: Int = 256
    /// Encoded bytes written per flush; a single larger message still goes alone.
    public var batchBytesMax: Int = 1 << 20
    /// Bytes NIO may hold for a connection before it stops being writable and messages wait
    /// (and, past the queue bounds, are dropped) in the transport's queue.
    public var writeBufferHighBytes: Int = 4 << 20
    /// Bytes below which a connection becomes writable again.
    public var writeBufferLowBytes: Int = 1 << 20

    /// First reconnect delay; it doubles per failed attempt up to the maximum.
    public var reconnectDelayMillisMin: Int64 = 50
    /// Longest reconnect delay.
    public var reconnectDelayMillisMax: Int64 = 2_000
    /// Seeds the reconnect jitter, so nodes that lost a peer together do not redial in step,
    /// and tests can reproduce delays.
    public var reconnectJitterSeed: UInt64 = 0
    /// How long a TCP connect may take.
    public var connectTimeoutMillis: Int64 = 1_000
    /// How long a new connection may take to authenticate before it is closed.
    public var handshakeTimeoutMillis: Int64 = 2_000
    /// How often a dialer pings its peer, so a dead connection is noticed even when idle.
    public var pingIntervalMillis: Int64 = 1_000
    /// A connection that receives nothing for this long is closed (and redialled).
    public var idleTimeoutMillis: Int64 = 5_000

    /// Bounds on frames received.
    public var frameLimits: PeerFrameLimits = .default
    /// Bounds on Raft messages received.
    public var messageLimits: RaftMessageDecodeLimits = .default

    /// Creates a configuration with default bounds and timeouts.
    public init(
        nodeID: NodeID, clusterName: String, clusterSecret: String,
        peers: [NodeID: PeerAddress]
    ) {
        self.nodeID = nodeID
        self.clusterName = clusterName
        self.clusterSecret = clusterSecret
        self.peers = peers
    }

    /// Traps on settings that cannot work, naming the offending values.
    func validate() {
        precondition(nodeID != .none, "the transport's nodeID cannot be NodeID.none")
        precondition(
            peers[nodeID] == nil && peers[.none] == nil,
            "peers \(peers.keys.sorted()) must not contain this node \(nodeID) or NodeID.none")
        precondition(
            clusterName.utf8.count <= PeerHandshakeMessage.textBytesMax,
            "clusterName longer than \(PeerHandshakeMessage.textBytesMax) bytes")
        precondition(
            outboundQueueMessagesMax >= 1 && outboundQueueBytesMax >= 1,
            "outbound queue bounds \(outboundQueueMessagesMax)/\(outboundQueueBytesMax) < 1")
        precondition(
            batchMessagesMax >= 1 && batchBytesMax >= 1,
            "batch bounds \(batchMessagesMax)/\(batchBytesMax) < 1")
        precondition(
            writeBufferLowBytes >= 1 && writeBufferLowBytes <= writeBufferHighBytes,
            "write buffer water marks \(writeBufferLowBytes)...\(writeBufferHighBytes)")
        precondition(
            reconnectDelayMillisMin >= 1 && reconnectDelayMillisMin <= reconnectDelayMillisMax,
            "reconnect delays \(reconnectDelayMillisMin)...\(reconnectDelayMillisMax)")
        precondition(
            connectTimeoutMillis >= 1 && handshakeTimeoutMillis >= 1 && pingIntervalMillis >= 1,
            "timeouts must be positive: connect \(connectTimeoutMillis), handshake "
                + "\(handshakeTimeoutMillis), ping \(pingIntervalMillis)")
        precondition(
            idleTimeoutMillis > pingIntervalMillis,
            "idleTimeoutMillis \(idleTimeoutMillis) must exceed pingIntervalMillis "
                + "\(pingIntervalMillis), or idle but healthy connections would be closed")
    }
}
