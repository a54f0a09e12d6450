import CohortCore

/// Proofs that the two ends of a peer connection share the cluster secret.
///
/// This is authentication against misconfiguration, not against an attacker: it stops a node
/// of another cluster, a node started with the wrong secret, or a stray client from joining the
/// Raft group, and it never sends the secret itself. Proofs are 64-bit keyed SipHash-2-4 values
/// over fresh nonces, so a recorded proof cannot be replayed on a new connection, but the
/// traffic after the handshake is neither encrypted nor integrity-protected against an active
/// attacker (its CRC32C only catches accidents). TLS, or HMAC-SHA256 over every frame, is
/// future work for deployments on untrusted networks.
struct PeerAuthenticator: Sendable {
    private let key0: UInt64
    private let key1: UInt64

    /// Derives the 128-bit proof key from a secret of any length.
    init(secret: String) {
        let bytes = Array(secret.utf8)
        key0 = SipHash.hash24(key0: 0x636F_686F_7274_2D6B, key1: 0x6579_2D68_616C_662D, bytes)
        key1 = SipHash.hash24(key0: 0x636F_686F_7274_2D6B, key1: 0x6579_2D68_616C_6632, bytes)
    }

    /// The dialer's proof: binds the acceptor's nonce, both node ids, the dialer's incarnation
    /// and the cluster name.
    func helloProof(
        acceptorNonce: PeerNonce, dialer: NodeID, acceptor: NodeID, dialerIncarnation: UInt64,
        clusterName: String
    ) -> UInt64 {
        var message = Array("cohort-hello".utf8)
        acceptorNonce.append(to: &message)
        Self.append(dialer.rawValue, to: &message)
        Self.append(acceptor.rawValue, to: &message)
        Self.append(dialerIncarnation, to: &message)
        message.append(contentsOf: clusterName.utf8)
        return SipHash.hash24(key0: key0, key1: key1, message)
    }

    /// The acceptor's proof: binds the dialer's nonce, both node ids (in the other order and
    /// under another label, so a dialer's own proof cannot be reflected back to it) and the
    /// acceptor's incarnation, which its unauthenticated challenge announced.
    func acceptProof(
        dialerNonce: PeerNonce, dialer: NodeID, acceptor: NodeID, acceptorIncarnation: UInt64
    ) -> UInt64 {
        var message = Array("cohort-accept".utf8)
        dialerNonce.append(to: &message)
        Self.append(acceptor.rawValue, to: &message)
        Self.append(dialer.rawValue, to: &message)
        Self.append(acceptorIncarnation, to: &message)
        return SipHash.hash24(key0: key0, key1: key1, message)
    }

    private static func append(_ value: UInt64, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }
}
