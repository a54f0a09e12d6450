/// The new state of one key, as the replication log carries it: already evaluated by the
/// leader, so a replica applies it without reading anything (DESIGN.md §3, "logical log").
public enum KeyEffect: Hashable, Sendable {
    /// `key` holds `value`; `valueType` is the storage type tag; `expiresAtMillis` is absolute
    /// milliseconds since the epoch, 0 for none.
    case put(key: [UInt8], value: [UInt8], valueType: UInt8, expiresAtMillis: UInt64)
    /// `key` is absent.
    case delete(key: [UInt8])

    /// The key the effect is about.
    public var key: [UInt8] {
        switch self {
        case .put(let key, _, _, _), .delete(let key): key
        }
    }
}
