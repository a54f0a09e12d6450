import CohortCore

extension KeyEffect {
    /// The effect of writing `write` to `key`.
    public init(key: [UInt8], write: KeyWrite) {
        switch write {
        case .put(let value, let type, let expiresAtMillis):
            self = .put(
                key: key, value: value, valueType: type.rawValue, expiresAtMillis: expiresAtMillis)
        case .delete:
            self = .delete(key: key)
        }
    }

    /// The key and the write the storage engine applies for it. An unknown type tag (from a
    /// newer node) is kept as a string, as every type of this format version is.
    public var keyWrite: (key: [UInt8], write: KeyWrite) {
        switch self {
        case .put(let key, let value, let valueType, let expiresAtMillis):
            return (
                key,
                .put(
                    value: value, type: ValueType(rawValue: valueType) ?? .string,
                    expiresAtMillis: expiresAtMillis)
            )
        case .delete(let key):
            return (key, .delete)
        }
    }
}
