/// Parses any RESP2 or RESP3 value, for clients and tests.
///
/// The parser is incremental in the same way as `RESPRequestParser`: pass the whole
/// unconsumed input each time and advance by `consumed` after `.value`. After `.needMoreData`
/// the parser remembers how many bytes the value needs at least (the whole body of a bulk
/// string, for instance) and answers `.needMoreData` in O(1) until that many have arrived; the
/// next call must pass the same bytes followed by more, or call `reset()` first.
///
/// Attributes (`|`) are parsed and discarded. Simple strings, errors, verbatim text and big
/// numbers are decoded as UTF-8, with invalid sequences repaired. Streamed strings and
/// aggregates (`$?`, `*?`) are not supported. Every malformed, truncated or oversized input
/// gives `.protocolError` or `.needMoreData`, never a trap.
public struct RESPValueParser: Sendable {
    /// The result of one `parse` call.
    public enum Outcome: Sendable, Equatable {
        /// A complete value that took `consumed` bytes.
        case value(RESPValue, consumed: Int)
        /// The input holds no complete value yet.
        case needMoreData
        /// The input is not valid RESP.
        case protocolError(String)
    }

    /// The bounds this parser enforces.
    public let limits: RESPLimits
    /// The input cannot hold a complete value before it is at least this long.
    private var bytesNeededMin = 0

    /// A parser with the given limits.
    public init(limits: RESPLimits = RESPLimits()) {
        self.limits = limits
    }

    /// Parses the next value from `bytes`, the caller's unconsumed input.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        if bytes.count < bytesNeededMin { return .needMoreData }
        var reader = RESPValueReader(bytes: bytes, limits: limits)
        do {
            let value = try reader.readValue(depth: 1)
            bytesNeededMin = 0
            return .value(value, consumed: reader.index)
        } catch {
            switch error {
            case .needMore(let bytesNeeded):
                bytesNeededMin = bytesNeeded
                return .needMoreData
            case .invalid(let message):
                bytesNeededMin = 0
                return .protocolError(message)
            }
        }
    }

    /// Forgets what the last call learned about the input.
    public mutating func reset() {
        bytesNeededMin = 0
    }
}
