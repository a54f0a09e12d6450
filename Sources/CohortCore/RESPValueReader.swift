/// One pass of `RESPValueParser` over a buffer: a recursive descent reader whose depth is
/// bounded by `RESPLimits.nestingDepthMax`.
struct RESPValueReader {
    /// Why reading stopped early.
    enum Failure: Error {
        /// The buffer must grow to at least `bytesNeeded` bytes before the outcome can change.
        case needMore(bytesNeeded: Int)
        /// The input is not valid RESP.
        case invalid(String)
    }

    let bytes: UnsafeRawBufferPointer
    let limits: RESPLimits
    /// Offset of the next unread byte.
    var index = 0

    /// How many elements to reserve room for up front, whatever count the input announces.
    static let elementsReservedMax = 64

    init(bytes: UnsafeRawBufferPointer, limits: RESPLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    mutating func readValue(depth: Int) throws(Failure) -> RESPValue {
        guard depth <= limits.nestingDepthMax else {
            throw .invalid("Protocol error: nesting deeper than \(limits.nestingDepthMax)")
        }
        var type = try readTypeByte()
        // Attributes annotate the value that follows; they are skipped, in a loop so that a
        // chain of them cannot recurse.
        while type == UInt8(ascii: "|") {
            let count = try readCount(allowsNull: false)
            for _ in 0..<(count * 2) { _ = try readValue(depth: depth + 1) }
            type = try readTypeByte()
        }
        switch type {
        case UInt8(ascii: "+"):
            return .simpleString(text(try readLine()))
        case UInt8(ascii: "-"):
            return .error(text(try readLine()))
        case UInt8(ascii: ":"):
            let line = try readLine()
            guard
                let value = RESPScanning.parseInteger(
                    bytes, from: line.lowerBound, to: line.upperBound)
            else {
                throw .invalid("Protocol error: invalid integer")
            }
            return .integer(value)
        case UInt8(ascii: "$"):
            guard let length = try readLength(allowsNull: true) else { return .null }
            let body = try readBody(length: length)
            return .bulkString(RESPScanning.copy(bytes, from: body.lowerBound, to: body.upperBound))
        case UInt8(ascii: "*"):
            guard let count = try readLength(allowsNull: true, isAggregate: true) else {
                return .nullArray
            }
            return .array(try readElements(count: count, depth: depth))
        case UInt8(ascii: "_"):
            guard try readLine().isEmpty else { throw .invalid("Protocol error: invalid null") }
            return .null
        case UInt8(ascii: ","):
            return .double(try readDouble())
        case UInt8(ascii: "#"):
            let line = try readLine()
            guard line.count == 1 else { throw .invalid("Protocol error: invalid boolean") }
            switch bytes[line.lowerBound] {
            case UInt8(ascii: "t"): return .boolean(true)
            case UInt8(ascii: "f"): return .boolean(false)
            default: throw .invalid("Protocol error: invalid boolean")
            }
        case UInt8(ascii: "!"):
            guard let length = try readLength(allowsNull: false) else {
                throw .invalid("Protocol error: invalid bulk length")
            }
            return .error(text(try readBody(length: length)))
        case UInt8(ascii: "="):
            guard let length = try readLength(allowsNull: false) else {
                throw .invalid("Protocol error: invalid bulk length")
            }
            let body = try readBody(length: length)
            // The format is three ASCII bytes, so that it survives decoding and re-encoding.
            guard body.count >= 4, bytes[body.lowerBound + 3] == UInt8(ascii: ":"),
                bytes[body.lowerBound..<(body.lowerBound + 3)].allSatisfy({ $0 < 0x80 })
            else {
                throw .invalid("Protocol error: invalid verbatim string")
            }
            return .verbatim(
                format: text(body.lowerBound..<(body.lowerBound + 3)),
                text: text((body.lowerBound + 4)..<body.upperBound))
        case UInt8(ascii: "("):
            let line = try readLine()
            guard isBigNumber(line) else { throw .invalid("Protocol error: invalid big number") }
            return .bigNumber(text(line))
        case UInt8(ascii: "%"):
            let count = try readCount(allowsNull: false)
            var pairs: [(RESPValue, RESPValue)] = []
            pairs.reserveCapacity(min(count, Self.elementsReservedMax))
            for _ in 0..<count {
                let key = try readValue(depth: depth + 1)
                let value = try readValue(depth: depth + 1)
                pairs.append((key, value))
            }
            return .map(pairs)
        case UInt8(ascii: "~"):
            return .set(try readElements(count: try readCount(allowsNull: false), depth: depth))
        case UInt8(ascii: ">"):
            return .push(try readElements(count: try readCount(allowsNull: false), depth: depth))
        default:
            throw .invalid(
                "Protocol error: unknown type byte '\(RESPScanning.printable(type))'")
        }
    }

    // MARK: - Pieces

    private mutating func readTypeByte() throws(Failure) -> UInt8 {
        guard index < bytes.count else { throw .needMore(bytesNeeded: index + 1) }
        let type = bytes[index]
        index += 1
        return type
    }

    /// Reads a line up to CRLF and returns the range of its content.
    private mutating func readLine() throws(Failure) -> Range<Int> {
        let start = index
        let windowEnd = min(bytes.count, start + limits.inlineBytesMax + 1)
        guard
            let carriageReturn = RESPScanning.firstIndex(
                of: UInt8(ascii: "\r"), in: bytes, from: start, to: windowEnd)
        else {
            if bytes.count - start > limits.inlineBytesMax {
                throw .invalid("Protocol error: too big line")
            }
            throw .needMore(bytesNeeded: bytes.count + 1)
        }
        guard carriageReturn + 1 < bytes.count else {
            throw .needMore(bytesNeeded: carriageReturn + 2)
        }
        guard bytes[carriageReturn + 1] == UInt8(ascii: "\n") else {
            throw .invalid("Protocol error: expected '\\n' after '\\r'")
        }
        index = carriageReturn + 2
        return start..<carriageReturn
    }

    /// Reads a length line; nil for -1 when `allowsNull`.
    private mutating func readLength(allowsNull: Bool, isAggregate: Bool = false)
        throws(Failure) -> Int?
    {
        let line = try readLine()
        let maximum = isAggregate ? limits.arrayCountMax : limits.bulkBytesMax
        let message =
            isAggregate
            ? "Protocol error: invalid multibulk length" : "Protocol error: invalid bulk length"
        guard
            let length = RESPScanning.parseInteger(
                bytes, from: line.lowerBound, to: line.upperBound)
        else {
            throw .invalid(message)
        }
        if length == -1 && allowsNull { return nil }
        guard length >= 0 && length <= Int64(maximum) else { throw .invalid(message) }
        return Int(length)
    }

    private mutating func readCount(allowsNull: Bool) throws(Failure) -> Int {
        guard let count = try readLength(allowsNull: allowsNull, isAggregate: true) else {
            throw .invalid("Protocol error: invalid multibulk length")
        }
        return count
    }

    /// Reads `length` bytes and their CRLF, returning the range of the bytes.
    private mutating func readBody(length: Int) throws(Failure) -> Range<Int> {
        let end = index + length
        guard bytes.count >= end + 2 else { throw .needMore(bytesNeeded: end + 2) }
        guard bytes[end] == UInt8(ascii: "\r"), bytes[end + 1] == UInt8(ascii: "\n") else {
            throw .invalid("Protocol error: expected CRLF after bulk string")
        }
        let body = index..<end
        index = end + 2
        return body
    }

    private mutating func readElements(count: Int, depth: Int) throws(Failure) -> [RESPValue] {
        var elements: [RESPValue] = []
        elements.reserveCapacity(min(count, Self.elementsReservedMax))
        for _ in 0..<count { elements.append(try readValue(depth: depth + 1)) }
        return elements
    }

    private mutating func readDouble() throws(Failure) -> Double {
        let line = text(try readLine())
        switch line {
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        case "nan", "-nan": return .nan
        default:
            // Double(_:) also accepts spellings RESP does not use ("infinity", hex floats);
            // requiring a digit keeps the accepted set close to RESP's.
            guard line.utf8.contains(where: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                let value = Double(line), value.isFinite
            else {
                throw .invalid("Protocol error: invalid double")
            }
            return value
        }
    }

    private func isBigNumber(_ range: Range<Int>) -> Bool {
        var digitsStart = range.lowerBound
        if digitsStart < range.upperBound && bytes[digitsStart] == UInt8(ascii: "-") {
            digitsStart += 1
        }
        guard digitsStart < range.upperBound else { return false }
        for offset in digitsStart..<range.upperBound {
            let byte = bytes[offset]
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return false }
        }
        return true
    }

    private func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }
}
