/// The type of a stored value. Stored as one byte in every record; values not listed here are
/// rejected by the record decoder of this format version.
///
/// A collection (hash, set, list, sorted set) is a header record under its key, whose value is a
/// `CollectionHeader` (version and element count), plus one `.element` record per element under
/// an internal key (see `EngineKey`), so that changing one element writes two small records
/// whatever the collection's size.
public enum ValueType: UInt8, Sendable, CaseIterable {
    /// An opaque byte string (Redis strings, counters kept as decimal text).
    case string = 0
    /// The header of a Redis hash; its elements are field → value.
    case hash = 1
    /// The header of a Redis set; its elements are members with empty values.
    case set = 2
    /// The header of a Redis list; its elements are positions (see `ListPosition`) holding
    /// the items.
    case list = 3
    /// The header of a Redis sorted set; its elements are the members (with their scores)
    /// and, under a second prefix, the members in score order (see `SortedSetElement`).
    case zset = 4
    /// One element of a collection, under an internal key naming the collection's key, its
    /// version and the element.
    case element = 16

    /// Whether values of this type are collection headers.
    public var isCollection: Bool {
        switch self {
        case .hash, .set, .list, .zset: true
        case .string, .element: false
        }
    }
}
