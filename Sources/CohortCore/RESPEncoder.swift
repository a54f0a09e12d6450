/// Writes RESP replies into a `RESPByteSink` piece by piece, without building a `RESPValue`.
///
/// These are the hot-path entry points: a server can answer GET by writing a bulk string header
/// and the stored bytes straight into its outbound buffer. Integers are formatted into a small
/// stack buffer, never through `String`. Functions are `@inlinable` so that they specialize for
/// the caller's sink type across module boundaries.
public enum RESPEncoder {
    /// The longest header: a prefix byte, a sign, 20 digits and CRLF.
    @usableFromInline static let headerBytesMax = 24

    /// Writes `+OK\r\n`.
    @inlinable
    public static func writeOK(into sink: inout some RESPByteSink) {
        writeStatic("+OK\r\n", into: &sink)
    }

    /// Writes `+PONG\r\n`.
    @inlinable
    public static func writePong(into sink: inout some RESPByteSink) {
        writeStatic("+PONG\r\n", into: &sink)
    }

    /// Writes `:<value>\r\n`.
    @inlinable
    public static func writeInteger(_ value: Int64, into sink: inout some RESPByteSink) {
        writeHeader(prefix: UInt8(ascii: ":"), value: value, into: &sink)
    }

    /// Writes `$<count>\r\n<bytes>\r\n`.
    @inlinable
    public static func writeBulkString(
        _ bytes: UnsafeRawBufferPointer, into sink: inout some RESPByteSink
    ) {
        sink.reserveRESPCapacity(bytes.count + headerBytesMax + 2)
        writeHeader(prefix: UInt8(ascii: "$"), value: Int64(bytes.count), into: &sink)
        sink.writeRESPBytes(bytes)
        writeCRLF(into: &sink)
    }

    /// Writes `$<count>\r\n<bytes>\r\n`.
    @inlinable
    public static func writeBulkString(_ bytes: [UInt8], into sink: inout some RESPByteSink) {
        bytes.withUnsafeBytes { writeBulkString($0, into: &sink) }
    }

    /// Writes the null reply: `$-1\r\n` in RESP2, `_\r\n` in RESP3.
    @inlinable
    public static func writeNull(version: RESPVersion, into sink: inout some RESPByteSink) {
        switch version {
        case .resp2: writeStatic("$-1\r\n", into: &sink)
        case .resp3: writeStatic("_\r\n", into: &sink)
        }
    }

    /// Writes the null array: `*-1\r\n` in RESP2, `_\r\n` in RESP3.
    @inlinable
    public static func writeNullArray(version: RESPVersion, into sink: inout some RESPByteSink) {
        switch version {
        case .resp2: writeStatic("*-1\r\n", into: &sink)
        case .resp3: writeStatic("_\r\n", into: &sink)
        }
    }

    /// Writes `*<count>\r\n`; the caller then writes `count` values.
    @inlinable
    public static func writeArrayHeader(count: Int, into sink: inout some RESPByteSink) {
        precondition(count >= 0, "array count \(count) must not be negative")
        writeHeader(prefix: UInt8(ascii: "*"), value: Int64(count), into: &sink)
    }

    /// Writes `%<count>\r\n` (RESP3) or `*<2 count>\r\n` (RESP2); the caller then writes
    /// `count` key/value pairs.
    @inlinable
    public static func writeMapHeader(
        count: Int, version: RESPVersion, into sink: inout some RESPByteSink
    ) {
        precondition(count >= 0, "map count \(count) must not be negative")
        switch version {
        case .resp2: writeHeader(prefix: UInt8(ascii: "*"), value: Int64(count) * 2, into: &sink)
        case .resp3: writeHeader(prefix: UInt8(ascii: "%"), value: Int64(count), into: &sink)
        }
    }

    /// Writes `~<count>\r\n` (RESP3) or `*<count>\r\n` (RESP2).
    @inlinable
    public static func writeSetHeader(
        count: Int, version: RESPVersion, into sink: inout some RESPByteSink
    ) {
        precondition(count >= 0, "set count \(count) must not be negative")
        let prefix = version == .resp3 ? UInt8(ascii: "~") : UInt8(ascii: "*")
        writeHeader(prefix: prefix, value: Int64(count), into: &sink)
    }

    /// Writes `><count>\r\n` (RESP3) or `*<count>\r\n` (RESP2).
    @inlinable
    public static func writePushHeader(
        count: Int, version: RESPVersion, into sink: inout some RESPByteSink
    ) {
        precondition(count >= 0, "push count \(count) must not be negative")
        let prefix = version == .resp3 ? UInt8(ascii: ">") : UInt8(ascii: "*")
        writeHeader(prefix: prefix, value: Int64(count), into: &sink)
    }

    /// Writes `+<text>\r\n`, with any CR or LF in `text` written as a space (as Redis does), so
    /// that a reply can never break the framing.
    @inlinable
    public static func writeSimpleString(_ text: String, into sink: inout some RESPByteSink) {
        writeLine(prefix: UInt8(ascii: "+"), text: text, into: &sink)
    }

    /// Writes `-<message>\r\n`, with any CR or LF written as a space.
    @inlinable
    public static func writeError(_ message: String, into sink: inout some RESPByteSink) {
        writeLine(prefix: UInt8(ascii: "-"), text: message, into: &sink)
    }

    /// Writes `,<value>\r\n` (RESP3) or the same text as a bulk string (RESP2).
    @inlinable
    public static func writeDouble(
        _ value: Double, version: RESPVersion, into sink: inout some RESPByteSink
    ) {
        let text = doubleText(value)
        switch version {
        case .resp2: writeBulkString(text: text, into: &sink)
        case .resp3: writeLine(prefix: UInt8(ascii: ","), text: text, into: &sink)
        }
    }

    /// Writes `#t\r\n` / `#f\r\n` (RESP3) or `:1\r\n` / `:0\r\n` (RESP2).
    @inlinable
    public static func writeBoolean(
        _ value: Bool, version: RESPVersion, into sink: inout some RESPByteSink
    ) {
        switch (version, value) {
        case (.resp2, true): writeStatic(":1\r\n", into: &sink)
        case (.resp2, false): writeStatic(":0\r\n", into: &sink)
        case (.resp3, true): writeStatic("#t\r\n", into: &sink)
        case (.resp3, false): writeStatic("#f\r\n", into: &sink)
        }
    }

    /// Writes `=<count>\r\n<format>:<text>\r\n` (RESP3) or the text as a bulk string (RESP2).
    /// `format` must be exactly three bytes, such as `txt` or `mkd`.
    @inlinable
    public static func writeVerbatim(
        format: String, text: String, version: RESPVersion, into sink: inout some RESPByteSink
    ) {
        let formatBytes = Array(format.utf8)
        precondition(formatBytes.count == 3, "verbatim format '\(format)' must be three bytes")
        switch version {
        case .resp2:
            writeBulkString(text: text, into: &sink)
        case .resp3:
            var text = text
            text.withUTF8 { textBytes in
                let count = formatBytes.count + 1 + textBytes.count
                writeHeader(prefix: UInt8(ascii: "="), value: Int64(count), into: &sink)
                formatBytes.withUnsafeBytes { sink.writeRESPBytes($0) }
                sink.writeRESPByte(UInt8(ascii: ":"))
                sink.writeRESPBytes(UnsafeRawBufferPointer(textBytes))
            }
            writeCRLF(into: &sink)
        }
    }

    /// Writes `(<digits>\r\n` (RESP3) or the digits as a bulk string (RESP2).
    @inlinable
    public static func writeBigNumber(
        _ digits: String, version: RESPVersion, into sink: inout some RESPByteSink
    ) {
        switch version {
        case .resp2: writeBulkString(text: digits, into: &sink)
        case .resp3: writeLine(prefix: UInt8(ascii: "("), text: digits, into: &sink)
        }
    }

    // MARK: - Building blocks

    /// The text of a double: `inf`, `-inf`, `nan`, or Swift's shortest round-trip decimal.
    @inlinable
    public static func doubleText(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        // Whole numbers print without a fraction, as Redis prints them ("3", not "3.0").
        let text = value.description
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }

    @inlinable
    static func writeStatic(_ text: StaticString, into sink: inout some RESPByteSink) {
        sink.writeRESPBytes(
            UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inlinable
    static func writeCRLF(into sink: inout some RESPByteSink) {
        writeStatic("\r\n", into: &sink)
    }

    /// Writes `<prefix><decimal value>\r\n` with one sink call, formatting digits backwards
    /// into a stack buffer.
    @inlinable
    static func writeHeader(prefix: UInt8, value: Int64, into sink: inout some RESPByteSink) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: headerBytesMax) { buffer in
            var start = buffer.count - 2
            buffer[start] = UInt8(ascii: "\r")
            buffer[start + 1] = UInt8(ascii: "\n")
            var magnitude = value.magnitude
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                start -= 1
                buffer[start] = UInt8(ascii: "-")
            }
            start -= 1
            buffer[start] = prefix
            sink.writeRESPBytes(
                UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[start...])))
        }
    }

    /// Writes `<prefix><text>\r\n`, turning CR and LF into spaces.
    @inlinable
    static func writeLine(prefix: UInt8, text: String, into sink: inout some RESPByteSink) {
        sink.writeRESPByte(prefix)
        var text = text
        text.withUTF8 { bytes in
            let isClean = !bytes.contains { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }
            if isClean {
                sink.writeRESPBytes(UnsafeRawBufferPointer(bytes))
            } else {
                for byte in bytes {
                    let isBreak = byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
                    sink.writeRESPByte(isBreak ? UInt8(ascii: " ") : byte)
                }
            }
        }
        writeCRLF(into: &sink)
    }

    @inlinable
    static func writeBulkString(text: String, into sink: inout some RESPByteSink) {
        var text = text
        text.withUTF8 { writeBulkString(UnsafeRawBufferPointer($0), into: &sink) }
    }
}
