/// Renders byte strings (keys and values) for the history text format and parses them back.
///
/// A byte string made of letters, digits and `_.:/+-` prints bare (`x`, `42`); anything else is
/// quoted with `\"`, `\\`, `\n`, `\t` and `\xHH` escapes. The absent value prints as `nil` (and a
/// byte string spelling "nil" is quoted), so every value round-trips.
enum ByteStringText {
    /// The word for an absent value.
    static let absentWord = "nil"

    /// Renders an optional byte string; `nil` renders as `nil`.
    static func render(_ bytes: [UInt8]?) -> String {
        guard let bytes else { return absentWord }
        return render(bytes)
    }

    /// Renders a byte string bare when that is unambiguous, quoted otherwise.
    static func render(_ bytes: [UInt8]) -> String {
        if !bytes.isEmpty, bytes.allSatisfy(isBare), bytes != Array(absentWord.utf8) {
            return String(decoding: bytes, as: UTF8.self)
        }
        var text = "\""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): text += "\\\""
            case UInt8(ascii: "\\"): text += "\\\\"
            case UInt8(ascii: "\n"): text += "\\n"
            case UInt8(ascii: "\t"): text += "\\t"
            case 0x20...0x7E: text.unicodeScalars.append(Unicode.Scalar(byte))
            default: text += "\\x" + hexDigit(byte >> 4) + hexDigit(byte & 0x0F)
            }
        }
        return text + "\""
    }

    /// Whether a byte may appear in a bare (unquoted) token.
    static func isBare(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "/"),
            UInt8(ascii: "+"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> String {
        String(UnicodeScalar(nibble < 10 ? nibble + 0x30 : nibble - 10 + 0x61))
    }

    /// One token of a history text line.
    enum Token: Equatable {
        /// An unquoted word.
        case bare(String)
        /// A quoted byte string, escapes resolved.
        case quoted([UInt8])
    }

    /// Splits a line into tokens. Returns `nil` with a reason on an unterminated quote or a bad
    /// escape.
    static func tokenize(_ line: String) -> Result<[Token], HistoryParseError> {
        let bytes = Array(line.utf8)
        var tokens: [Token] = []
        var position = 0
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                position += 1
                continue
            }
            if byte == UInt8(ascii: "#") { break }
            if byte != UInt8(ascii: "\"") {
                var end = position
                while end < bytes.count, bytes[end] != UInt8(ascii: " "),
                    bytes[end] != UInt8(ascii: "\t")
                {
                    end += 1
                }
                tokens.append(.bare(String(decoding: bytes[position..<end], as: UTF8.self)))
                position = end
                continue
            }
            position += 1
            var value: [UInt8] = []
            var closed = false
            while position < bytes.count {
                let current = bytes[position]
                position += 1
                if current == UInt8(ascii: "\"") {
                    closed = true
                    break
                }
                if current != UInt8(ascii: "\\") {
                    value.append(current)
                    continue
                }
                guard position < bytes.count else { break }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): value.append(escape)
                case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                case UInt8(ascii: "t"): value.append(UInt8(ascii: "\t"))
                case UInt8(ascii: "x"):
                    guard position + 1 < bytes.count, let high = hexValue(bytes[position]),
                        let low = hexValue(bytes[position + 1])
                    else {
                        return .failure(HistoryParseError(line: 0, message: "bad \\x escape"))
                    }
                    value.append(high << 4 | low)
                    position += 2
                default:
                    return .failure(
                        HistoryParseError(
                            line: 0, message: "unknown escape \\\(Character(UnicodeScalar(escape)))"
                        ))
                }
            }
            guard closed else {
                return .failure(HistoryParseError(line: 0, message: "unterminated quoted string"))
            }
            tokens.append(.quoted(value))
        }
        return .success(tokens)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Interprets a token as an optional value: bare `nil` is absent.
    static func value(_ token: Token) -> [UInt8]? {
        switch token {
        case .bare(let word): return word == absentWord ? nil : Array(word.utf8)
        case .quoted(let bytes): return bytes
        }
    }

    /// Interprets a token as a byte string (a key): never absent.
    static func bytes(_ token: Token) -> [UInt8] {
        switch token {
        case .bare(let word): return Array(word.utf8)
        case .quoted(let bytes): return bytes
        }
    }
}
