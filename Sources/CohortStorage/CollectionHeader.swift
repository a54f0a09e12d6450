/// The value of a collection's header record: which version of the collection is live (its
/// element keys carry it, see `EngineKey`), how many elements it has (HLEN, SCARD, LLEN), and
/// for a list the position of its first element.
///
/// Encoded as 25 bytes: format u8 (1) · version u64 LE · count u64 LE · head i64 LE. A 17-byte
/// header (without the head, written before lists existed) reads with head 0.
public struct CollectionHeader: Hashable, Sendable {
    /// The version whose elements are live.
    public var version: UInt64
    /// The number of live elements; a collection with none is deleted.
    public var count: Int
    /// A list's first position: its elements lie at `head ..< head + count` (see
    /// `ListPosition`). 0 for the other types.
    public var head: Int64

    public init(version: UInt64, count: Int, head: Int64 = 0) {
        self.version = version
        self.count = count
        self.head = head
    }

    static let format: UInt8 = 1
    static let encodedBytes = 25
    static let encodedBytesWithoutHead = 17

    /// The encoded value.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = [Self.format]
        bytes.reserveCapacity(Self.encodedBytes)
        appendLittleEndian(version, to: &bytes)
        appendLittleEndian(UInt64(count), to: &bytes)
        appendLittleEndian(head, to: &bytes)
        return bytes
    }

    /// Decodes a header value; nil when it is not one this format version wrote.
    public init?(decoding bytes: [UInt8]) {
        guard bytes.count == Self.encodedBytes || bytes.count == Self.encodedBytesWithoutHead,
            bytes[0] == Self.format
        else { return nil }
        let (version, count, head) = bytes.withUnsafeBytes { raw in
            (
                readLittleEndian(raw, at: 1, as: UInt64.self),
                readLittleEndian(raw, at: 9, as: UInt64.self),
                raw.count == Self.encodedBytes ? readLittleEndian(raw, at: 17, as: Int64.self) : 0
            )
        }
        guard count <= UInt64(Int.max) else { return nil }
        self.init(version: version, count: Int(count), head: head)
    }
}

/// A list element's position as its element bytes: 8 bytes big-endian with the sign bit
/// flipped, so byte order is numeric order and a list's elements lie in position order.
public enum ListPosition {
    /// The element bytes of `position`.
    public static func element(_ position: Int64) -> [UInt8] {
        let biased = UInt64(bitPattern: position) ^ (1 << 63)
        return (0..<8).map { UInt8(truncatingIfNeeded: biased >> (56 - 8 * UInt64($0))) }
    }
}
