/// Why bytes could not be decoded as a record. Decoding never traps: every malformed input maps
/// to one of these.
public enum RecordDecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Fewer bytes than the header or the lengths it declares.
    case truncated
    /// The first byte is not the record magic.
    case badMagic
    /// The format version is not one this decoder knows.
    case badVersion
    /// Unknown flag bits, value type or a zero group size.
    case badHeader
    /// A key or value length above the limits, or a length that overflows.
    case badLength
    /// The checksum over header, key and value does not match.
    case badChecksum

    public var description: String {
        switch self {
        case .truncated: "truncated record"
        case .badMagic: "bad record magic"
        case .badVersion: "unknown record version"
        case .badHeader: "bad record header"
        case .badLength: "bad record length"
        case .badChecksum: "bad record checksum"
        }
    }
}
