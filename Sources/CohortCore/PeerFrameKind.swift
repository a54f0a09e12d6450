/// What a peer frame carries. The handshake kinds come first on every connection; after it,
/// Raft messages and keep-alive pings flow.
public enum PeerFrameKind: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Acceptor → dialer, first frame on a connection: a fresh nonce and who the acceptor is.
    case challenge = 1
    /// Dialer → acceptor: who the dialer is, proof that it knows the cluster secret, and its
    /// own nonce for the acceptor to prove the same.
    case hello = 2
    /// Acceptor → dialer: the dialer is admitted; carries the acceptor's proof.
    case helloAccepted = 3
    /// Acceptor → dialer: the dialer is refused, with a reason; the acceptor then closes.
    case helloRejected = 4
    /// One encoded Raft message.
    case raft = 5
    /// A keep-alive; the receiver answers with ``pong`` echoing the payload.
    case ping = 6
    /// The answer to ``ping``.
    case pong = 7
    /// An application payload that is not a Raft message: a follower forwarding a client
    /// command to the leader, and the leader's answer. Opaque to the transport.
    case forward = 8
    /// A Raft message of a replication group other than the default one (a keyspace):
    /// the group's id (u64, big-endian), then the encoded message.
    case groupRaft = 9
    /// A ``forward`` payload for a group other than the default one: the group's id (u64,
    /// big-endian), then the payload.
    case groupForward = 10

    /// The kind's name, for logs.
    public var description: String {
        switch self {
        case .challenge: "challenge"
        case .hello: "hello"
        case .helloAccepted: "helloAccepted"
        case .helloRejected: "helloRejected"
        case .raft: "raft"
        case .ping: "ping"
        case .pong: "pong"
        case .forward: "forward"
        case .groupRaft: "groupRaft"
        case .groupForward: "groupForward"
        }
    }
}
