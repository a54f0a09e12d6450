/// Finds frames in bytes received from a peer. Incremental: give it everything buffered so
/// far; it reports a complete frame and how many bytes it used, asks for more data, or reports
/// an error. Errors are reported as early as the bytes allow (a bad magic after one byte, an
/// oversized length as soon as the header is in) so a bad peer is dropped before it makes the
/// receiver buffer anything. After an error the stream cannot be resynchronised: close the
/// connection. Never traps.
public struct PeerFrameDecoder: Sendable {
    /// The result of one call to ``decode(_:)``.
    public enum Outcome: Hashable, Sendable {
        /// A frame whose payload is at `payload` within the given bytes; the frame used the
        /// first `consumed` bytes.
        case frame(kind: PeerFrameKind, payload: Range<Int>, consumed: Int)
        /// No complete frame yet and nothing wrong so far.
        case needMoreData
        /// The bytes are not a valid frame stream.
        case error(PeerFrameDecoder.Failure)
    }

    /// Why the bytes are not a valid frame stream.
    public enum Failure: Hashable, Sendable, CustomStringConvertible {
        /// The first bytes are not ``PeerFrame/magic``: not a Cohort peer, or out of step.
        case badMagic
        /// A frame format version this decoder does not read.
        case unsupportedVersion(UInt8)
        /// A kind byte this decoder does not know.
        case unknownKind(UInt8)
        /// The payload length exceeds ``PeerFrameLimits/payloadBytesMax``.
        case oversized(payloadBytes: Int)
        /// The checksum over header and payload does not match.
        case badChecksum

        /// A short English description for logs.
        public var description: String {
            switch self {
            case .badMagic: "bad peer frame magic"
            case .unsupportedVersion(let version): "unsupported peer frame version \(version)"
            case .unknownKind(let kind): "unknown peer frame kind \(kind)"
            case .oversized(let bytes): "peer frame payload of \(bytes) bytes over the limit"
            case .badChecksum: "bad peer frame checksum"
            }
        }
    }

    /// The bounds this decoder enforces.
    public let limits: PeerFrameLimits

    /// Creates a decoder enforcing `limits`.
    public init(limits: PeerFrameLimits = .default) {
        self.limits = limits
    }

    /// Looks for one frame at the start of `bytes`.
    public func decode(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        let count = bytes.count
        if count >= 1 && bytes[0] != PeerFrame.magic.0 { return .error(.badMagic) }
        if count >= 2 && bytes[1] != PeerFrame.magic.1 { return .error(.badMagic) }
        if count >= 3 && bytes[2] != PeerFrame.formatVersion {
            return .error(.unsupportedVersion(bytes[2]))
        }
        if count >= 4 && PeerFrameKind(rawValue: bytes[3]) == nil {
            return .error(.unknownKind(bytes[3]))
        }
        guard count >= PeerFrame.checksumOffset else { return .needMoreData }
        let length = UInt32(
            littleEndian: bytes.loadUnaligned(
                fromByteOffset: PeerFrame.lengthOffset, as: UInt32.self))
        guard UInt64(length) <= UInt64(limits.payloadBytesMax) else {
            return .error(.oversized(payloadBytes: Int(length)))
        }
        let total = PeerFrame.headerBytes + Int(length)
        guard count >= total, let kind = PeerFrameKind(rawValue: bytes[3]) else {
            return .needMoreData
        }
        let expected = UInt32(
            littleEndian: bytes.loadUnaligned(
                fromByteOffset: PeerFrame.checksumOffset, as: UInt32.self))
        let payload = PeerFrame.headerBytes..<total
        let header = UnsafeRawBufferPointer(rebasing: bytes[0..<PeerFrame.checksumOffset])
        let checksum = CRC32C.checksum(
            UnsafeRawBufferPointer(rebasing: bytes[payload]), seed: CRC32C.checksum(header))
        guard checksum == expected else { return .error(.badChecksum) }
        return .frame(kind: kind, payload: payload, consumed: total)
    }
}
