/// Splits an inline command line into arguments with the quoting rules of Redis's
/// `sdssplitargs`:
/// - arguments are separated by whitespace;
/// - `"..."` may contain `\n`, `\r`, `\t`, `\b`, `\a`, `\xHH` and `\<any>` escapes;
/// - `'...'` is literal except for `\'`;
/// - a quote may start in the middle of an argument (`a"b c"` is `ab c`);
/// - a closing quote must be followed by whitespace or the end of the line;
/// - an unterminated quote is an error;
/// - a NUL byte ends the line, as it ends the C string Redis splits.
enum RESPInlineSplitter {
    /// The arguments of `bytes[start..<end]`, or nil for unbalanced quotes.
    static func split(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> [[UInt8]]? {
        // Reading past the end yields 0, the C string terminator the rules are written for.
        @inline(__always) func at(_ index: Int) -> UInt8 {
            index < end ? bytes[index] : 0
        }
        var arguments: [[UInt8]] = []
        var index = start
        while true {
            while isSpace(at(index)) && index < end { index += 1 }
            if at(index) == 0 { return arguments }
            var current: [UInt8] = []
            var inDoubleQuotes = false
            var inSingleQuotes = false
            var done = false
            while !done {
                let byte = at(index)
                if inDoubleQuotes {
                    if byte == UInt8(ascii: "\\") && at(index + 1) == UInt8(ascii: "x"),
                        let high = hexValue(at(index + 2)), let low = hexValue(at(index + 3))
                    {
                        current.append(high << 4 | low)
                        index += 3
                    } else if byte == UInt8(ascii: "\\") && at(index + 1) != 0 {
                        index += 1
                        current.append(unescaped(at(index)))
                    } else if byte == UInt8(ascii: "\"") {
                        if at(index + 1) != 0 && !isSpace(at(index + 1)) { return nil }
                        done = true
                    } else if byte == 0 {
                        return nil
                    } else {
                        current.append(byte)
                    }
                } else if inSingleQuotes {
                    if byte == UInt8(ascii: "\\") && at(index + 1) == UInt8(ascii: "'") {
                        index += 1
                        current.append(UInt8(ascii: "'"))
                    } else if byte == UInt8(ascii: "'") {
                        if at(index + 1) != 0 && !isSpace(at(index + 1)) { return nil }
                        done = true
                    } else if byte == 0 {
                        return nil
                    } else {
                        current.append(byte)
                    }
                } else {
                    switch byte {
                    case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"),
                        UInt8(ascii: "\t"), 0:
                        done = true
                    case UInt8(ascii: "\""):
                        inDoubleQuotes = true
                    case UInt8(ascii: "'"):
                        inSingleQuotes = true
                    default:
                        current.append(byte)
                    }
                }
                if at(index) != 0 { index += 1 }
            }
            arguments.append(current)
        }
    }

    /// C's `isspace`: space, \t, \n, \v, \f, \r.
    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || (byte >= 0x09 && byte <= 0x0D)
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    @inline(__always)
    static func unescaped(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "n"): return UInt8(ascii: "\n")
        case UInt8(ascii: "r"): return UInt8(ascii: "\r")
        case UInt8(ascii: "t"): return UInt8(ascii: "\t")
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "a"): return 0x07
        default: return byte
        }
    }
}
