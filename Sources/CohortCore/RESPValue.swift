/// One RESP2 or RESP3 value: what a server replies and what a client parses.
///
/// Values that only RESP3 can express are down-converted when encoded for a RESP2 connection
/// (see `encode(into:version:)`).
public enum RESPValue: Sendable {
    /// `+OK`: a short status line. Carriage returns and line feeds are written as spaces.
    case simpleString(String)
    /// `-ERR ...`: an error line. Carriage returns and line feeds are written as spaces.
    case error(String)
    /// `:42`.
    case integer(Int64)
    /// `$3\r\nfoo`: binary-safe bytes.
    case bulkString([UInt8])
    /// The null reply: `$-1` in RESP2, `_` in RESP3.
    case null
    /// The null array: `*-1` in RESP2, `_` in RESP3.
    case nullArray
    /// `*N`: an ordered list.
    case array([RESPValue])
    /// `%N`: key/value pairs in order; RESP2 sees a flat array of 2N elements.
    case map([(RESPValue, RESPValue)])
    /// `~N`: an unordered collection; RESP2 sees an array.
    case set([RESPValue])
    /// `,1.5`: RESP2 sees a bulk string of the same text.
    case double(Double)
    /// `#t` / `#f`: RESP2 sees the integer 1 or 0.
    case boolean(Bool)
    /// `=15\r\ntxt:...`: text with a three-byte format such as `txt` or `mkd`; RESP2 sees a bulk
    /// string of the text alone.
    case verbatim(format: String, text: String)
    /// `(12345678901234567890`: an integer of any size, as decimal digits with an optional '-';
    /// RESP2 sees a bulk string of the digits.
    case bigNumber(String)
    /// `>N`: an out-of-band message; RESP2 sees an array.
    case push([RESPValue])

    /// `+OK`, the most common reply.
    public static let ok = RESPValue.simpleString("OK")
}

extension RESPValue: Equatable {
    /// Structural equality; two NaN doubles are equal so that round trips can be compared.
    public static func == (lhs: RESPValue, rhs: RESPValue) -> Bool {
        switch (lhs, rhs) {
        case (.simpleString(let left), .simpleString(let right)): return left == right
        case (.error(let left), .error(let right)): return left == right
        case (.integer(let left), .integer(let right)): return left == right
        case (.bulkString(let left), .bulkString(let right)): return left == right
        case (.null, .null), (.nullArray, .nullArray): return true
        case (.array(let left), .array(let right)): return left == right
        case (.set(let left), .set(let right)): return left == right
        case (.push(let left), .push(let right)): return left == right
        case (.map(let left), .map(let right)):
            guard left.count == right.count else { return false }
            for (leftPair, rightPair) in zip(left, right)
            where leftPair.0 != rightPair.0 || leftPair.1 != rightPair.1 {
                return false
            }
            return true
        case (.double(let left), .double(let right)):
            return left == right || (left.isNaN && right.isNaN)
        case (.boolean(let left), .boolean(let right)): return left == right
        case (.verbatim(let leftFormat, let leftText), .verbatim(let rightFormat, let rightText)):
            return leftFormat == rightFormat && leftText == rightText
        case (.bigNumber(let left), .bigNumber(let right)): return left == right
        default: return false
        }
    }
}

extension RESPValue {
    /// Whether this is the null reply or the null array (what a pop finding nothing answers).
    public var isNull: Bool {
        switch self {
        case .null, .nullArray: return true
        default: return false
        }
    }
}
