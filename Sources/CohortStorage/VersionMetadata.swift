// The fuzzer compiles this file into one module with CohortCore's sources.
#if canImport(CohortCore)
    import CohortCore
#endif

/// What every version of a key carries, whichever replication strategy wrote it (DESIGN.md §5).
public struct VersionMetadata: Hashable, Sendable {
    /// Engine-assigned commit number; strictly increasing across commits, shared by the records
    /// of one transaction. Later sequences supersede earlier ones at recovery.
    public var sequence: UInt64
    // Declared in this order so that the struct packs into 38 bytes: the index holds one per
    // key (see `IndexSlot`), and the order of declaration is the order in memory.
    /// Absolute expiry in milliseconds since the Unix epoch; 0 means the value never expires.
    public var expiresAtMillis: UInt64
    /// The node that originated the write.
    public var origin: NodeID
    /// The hybrid logical clock time of the commit (12 bytes).
    public var timestamp: HLCTimestamp
    /// True for a deletion marker.
    public var isTombstone: Bool
    /// The type of the value.
    public var type: ValueType

    /// Creates metadata.
    public init(
        sequence: UInt64, timestamp: HLCTimestamp, origin: NodeID, isTombstone: Bool,
        type: ValueType, expiresAtMillis: UInt64
    ) {
        self.sequence = sequence
        self.timestamp = timestamp
        self.origin = origin
        self.isTombstone = isTombstone
        self.type = type
        self.expiresAtMillis = expiresAtMillis
    }

    /// True when the version has an expiry that is at or before `nowMillis`.
    public func isExpired(nowMillis: UInt64) -> Bool {
        expiresAtMillis != 0 && expiresAtMillis <= nowMillis
    }
}
