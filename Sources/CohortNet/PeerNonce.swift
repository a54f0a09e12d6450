/// 128 random bits that make one handshake's proofs unusable on any other connection.
struct PeerNonce: Hashable, Sendable {
    var high: UInt64
    var low: UInt64

    /// A nonce from the system's random source. The transport is the real-world shell, not the
    /// deterministic core, so unseeded randomness is allowed (and wanted) here.
    static func random() -> PeerNonce {
        var generator = SystemRandomNumberGenerator()
        return PeerNonce(high: generator.next(), low: generator.next())
    }

    func append(to buffer: inout [UInt8]) {
        withUnsafeBytes(of: high.littleEndian) { buffer.append(contentsOf: $0) }
        withUnsafeBytes(of: low.littleEndian) { buffer.append(contentsOf: $0) }
    }
}
