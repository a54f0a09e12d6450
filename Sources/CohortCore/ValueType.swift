/// The type of a stored value, so that one engine can hold plain strings now and CRDTs and
/// collections later. Stored as one byte in every record; values not listed here are rejected by
/// the record decoder of this format version.
public enum ValueType: UInt8, Sendable, CaseIterable {
    /// An opaque byte string (Redis strings, counters kept as decimal text).
    case string = 0
}
