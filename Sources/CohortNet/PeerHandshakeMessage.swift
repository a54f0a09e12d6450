import CohortCore

/// The payloads of the handshake frames. The acceptor speaks first:
///
///     acceptor → dialer   challenge(acceptor id, acceptor nonce, cluster name,
///                                   acceptor incarnation)
///     dialer → acceptor   hello(dialer id, expected acceptor id, cluster name, proof,
///                               dialer nonce, dialer incarnation)
///     acceptor → dialer   helloAccepted(proof) | helloRejected(reason), then close
///
/// Each side checks the other's proof (see ``PeerAuthenticator``), the cluster name, and that
/// the node at the other end is the one it expects, with the data directory it remembers (the
/// incarnation, see ``NodeIdentity``; 0 from a transport that checks none). Integers are little-endian; texts are a u16
/// byte length and UTF-8.
enum PeerHandshakeMessage: Hashable, Sendable {
    case challenge(acceptor: NodeID, nonce: PeerNonce, clusterName: String, incarnation: UInt64)
    case hello(
        dialer: NodeID, acceptor: NodeID, clusterName: String, proof: UInt64, nonce: PeerNonce,
        incarnation: UInt64)
    case accepted(proof: UInt64)
    case rejected(reason: String)

    /// Longest cluster name or rejection reason, in UTF-8 bytes.
    static let textBytesMax = 1_024

    /// The frame kind that carries this message.
    var frameKind: PeerFrameKind {
        switch self {
        case .challenge: .challenge
        case .hello: .hello
        case .accepted: .helloAccepted
        case .rejected: .helloRejected
        }
    }

    /// Appends the payload (not the frame header).
    func encode(into buffer: inout [UInt8]) {
        switch self {
        case .challenge(let acceptor, let nonce, let clusterName, let incarnation):
            Self.append(acceptor.rawValue, to: &buffer)
            nonce.append(to: &buffer)
            Self.append(text: clusterName, to: &buffer)
            Self.append(incarnation, to: &buffer)
        case .hello(
            let dialer, let acceptor, let clusterName, let proof, let nonce, let incarnation):
            Self.append(dialer.rawValue, to: &buffer)
            Self.append(acceptor.rawValue, to: &buffer)
            Self.append(text: clusterName, to: &buffer)
            Self.append(proof, to: &buffer)
            nonce.append(to: &buffer)
            Self.append(incarnation, to: &buffer)
        case .accepted(let proof):
            Self.append(proof, to: &buffer)
        case .rejected(let reason):
            Self.append(text: reason, to: &buffer)
        }
    }

    /// Decodes the payload of a handshake frame of `kind`; nil when malformed or when `kind`
    /// is not a handshake kind.
    static func decode(kind: PeerFrameKind, payload: UnsafeRawBufferPointer)
        -> PeerHandshakeMessage?
    {
        var offset = 0
        func word() -> UInt64? {
            guard payload.count - offset >= 8 else { return nil }
            defer { offset += 8 }
            return UInt64(
                littleEndian: payload.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }
        func text() -> String? {
            guard payload.count - offset >= 2 else { return nil }
            let length = Int(
                UInt16(littleEndian: payload.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            )
            offset += 2
            guard length <= textBytesMax, payload.count - offset >= length else { return nil }
            defer { offset += length }
            return String(
                validating: UnsafeRawBufferPointer(rebasing: payload[offset..<(offset + length)]),
                as: UTF8.self)
        }
        func nonce() -> PeerNonce? {
            guard let high = word(), let low = word() else { return nil }
            return PeerNonce(high: high, low: low)
        }
        let message: PeerHandshakeMessage?
        switch kind {
        case .challenge:
            guard let acceptor = word(), let nonce = nonce(), let name = text(),
                let incarnation = word()
            else { return nil }
            message = .challenge(
                acceptor: NodeID(acceptor), nonce: nonce, clusterName: name,
                incarnation: incarnation)
        case .hello:
            guard let dialer = word(), let acceptor = word(), let name = text(),
                let proof = word(), let nonce = nonce(), let incarnation = word()
            else { return nil }
            message = .hello(
                dialer: NodeID(dialer), acceptor: NodeID(acceptor), clusterName: name,
                proof: proof, nonce: nonce, incarnation: incarnation)
        case .helloAccepted:
            guard let proof = word() else { return nil }
            message = .accepted(proof: proof)
        case .helloRejected:
            guard let reason = text() else { return nil }
            message = .rejected(reason: reason)
        case .raft, .ping, .pong, .forward, .groupRaft, .groupForward:
            return nil
        }
        return offset == payload.count ? message : nil
    }

    private static func append(_ value: UInt64, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    private static func append(text: String, to buffer: inout [UInt8]) {
        let bytes = text.utf8.prefix(textBytesMax)
        withUnsafeBytes(of: UInt16(bytes.count).littleEndian) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: bytes)
    }
}
