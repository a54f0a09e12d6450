/// A value read from the engine with its version metadata.
public struct StoredValue: Hashable, Sendable {
    /// The value's bytes.
    public var bytes: [UInt8]
    /// The version metadata. Inside a transaction, a value written by that same transaction has
    /// sequence 0 and a zero timestamp until it commits.
    public var metadata: VersionMetadata

    /// Creates a stored value.
    public init(bytes: [UInt8], metadata: VersionMetadata) {
        self.bytes = bytes
        self.metadata = metadata
    }
}
