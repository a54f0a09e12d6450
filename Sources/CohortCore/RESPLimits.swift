/// Every bound the RESP codecs enforce, in one place, so that a hostile or broken peer can never
/// make a parser allocate without limit, recurse without limit, or trap.
///
/// The defaults follow Redis: `proto-max-bulk-len` is 512 MiB and `PROTO_INLINE_MAX_SIZE` is
/// 64 KiB. Redis accepts multibulk counts up to `INT_MAX`; Cohort caps them at 1,048,576
/// (2^20) arguments or elements, which is far above any real command (a 1 MiB-argument MSET
/// still fits) and keeps a single request's bookkeeping bounded.
public struct RESPLimits: Sendable, Hashable {
    /// The largest bulk string (`$<length>`, and RESP3 blob errors and verbatim strings), in bytes.
    public var bulkBytesMax: Int
    /// The largest element count of one array, set, push or map (a map counts its pairs).
    public var arrayCountMax: Int
    /// The longest line without its terminator: an inline command, a length line, or a simple
    /// string, error, integer, double or big number line of a reply.
    public var inlineBytesMax: Int
    /// How deeply aggregates may nest inside a reply (requests never nest). Bounds recursion.
    public var nestingDepthMax: Int

    /// Redis's `proto-max-bulk-len` default: 512 MiB.
    public static let bulkBytesMaxDefault = 512 * 1024 * 1024
    /// 2^20 elements; Redis allows up to `INT_MAX`, see the type's documentation.
    public static let arrayCountMaxDefault = 1024 * 1024
    /// Redis's `PROTO_INLINE_MAX_SIZE`: 64 KiB.
    public static let inlineBytesMaxDefault = 64 * 1024
    /// Deeper than any reply Redis produces; small enough that recursion cannot exhaust a stack.
    public static let nestingDepthMaxDefault = 64

    /// Limits with Redis's defaults unless overridden.
    public init(
        bulkBytesMax: Int = RESPLimits.bulkBytesMaxDefault,
        arrayCountMax: Int = RESPLimits.arrayCountMaxDefault,
        inlineBytesMax: Int = RESPLimits.inlineBytesMaxDefault,
        nestingDepthMax: Int = RESPLimits.nestingDepthMaxDefault
    ) {
        precondition(bulkBytesMax >= 0, "bulkBytesMax \(bulkBytesMax) must not be negative")
        precondition(arrayCountMax >= 0, "arrayCountMax \(arrayCountMax) must not be negative")
        precondition(inlineBytesMax >= 1, "inlineBytesMax \(inlineBytesMax) must be positive")
        precondition(nestingDepthMax >= 1, "nestingDepthMax \(nestingDepthMax) must be positive")
        self.bulkBytesMax = bulkBytesMax
        self.arrayCountMax = arrayCountMax
        self.inlineBytesMax = inlineBytesMax
        self.nestingDepthMax = nestingDepthMax
    }
}
