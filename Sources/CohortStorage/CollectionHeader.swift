/// The value of a collection's header record: which version of the collection is live (its
/// element keys carry it, see `EngineKey`) and how many elements it has (HLEN, SCARD).
///
/// Encoded as 17 bytes: format u8 (1) · version u64 LE · count u64 LE.
public struct CollectionHeader: Hashable, Sendable {
    /// The version whose elements are live.
    public var version: UInt64
    /// The number of live elements; a collection with none is deleted.
    public var count: Int

    public init(version: UInt64, count: Int) {
        self.version = version
        self.count = count
    }

    static let format: UInt8 = 1
    static let encodedBytes = 17

    /// The encoded value.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = [Self.format]
        bytes.reserveCapacity(Self.encodedBytes)
        appendLittleEndian(version, to: &bytes)
        appendLittleEndian(UInt64(count), to: &bytes)
        return bytes
    }

    /// Decodes a header value; nil when it is not one this format version wrote.
    public init?(decoding bytes: [UInt8]) {
        guard bytes.count == Self.encodedBytes, bytes[0] == Self.format else { return nil }
        let (version, count) = bytes.withUnsafeBytes { raw in
            (
                readLittleEndian(raw, at: 1, as: UInt64.self),
                readLittleEndian(raw, at: 9, as: UInt64.self)
            )
        }
        guard count <= UInt64(Int.max) else { return nil }
        self.init(version: version, count: Int(count))
    }
}
