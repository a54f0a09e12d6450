extension RESPValue {
    /// Appends this value's wire form to `sink`.
    ///
    /// For `.resp2`, RESP3-only values are down-converted as Redis does: a map becomes a flat
    /// array of keys and values, a set or push becomes an array, null becomes `$-1`, a boolean
    /// becomes the integer 1 or 0, and a double, verbatim string or big number becomes a bulk
    /// string of its text.
    @inlinable
    public func encode(into sink: inout some RESPByteSink, version: RESPVersion) {
        switch self {
        case .simpleString(let text):
            if text == "OK" {
                RESPEncoder.writeOK(into: &sink)
            } else {
                RESPEncoder.writeSimpleString(text, into: &sink)
            }
        case .error(let message):
            RESPEncoder.writeError(message, into: &sink)
        case .integer(let value):
            RESPEncoder.writeInteger(value, into: &sink)
        case .bulkString(let bytes):
            RESPEncoder.writeBulkString(bytes, into: &sink)
        case .null:
            RESPEncoder.writeNull(version: version, into: &sink)
        case .nullArray:
            RESPEncoder.writeNullArray(version: version, into: &sink)
        case .array(let elements):
            RESPEncoder.writeArrayHeader(count: elements.count, into: &sink)
            for element in elements { element.encode(into: &sink, version: version) }
        case .map(let pairs):
            RESPEncoder.writeMapHeader(count: pairs.count, version: version, into: &sink)
            for (key, value) in pairs {
                key.encode(into: &sink, version: version)
                value.encode(into: &sink, version: version)
            }
        case .set(let elements):
            RESPEncoder.writeSetHeader(count: elements.count, version: version, into: &sink)
            for element in elements { element.encode(into: &sink, version: version) }
        case .double(let value):
            RESPEncoder.writeDouble(value, version: version, into: &sink)
        case .boolean(let value):
            RESPEncoder.writeBoolean(value, version: version, into: &sink)
        case .verbatim(let format, let text):
            RESPEncoder.writeVerbatim(format: format, text: text, version: version, into: &sink)
        case .bigNumber(let digits):
            RESPEncoder.writeBigNumber(digits, version: version, into: &sink)
        case .push(let elements):
            RESPEncoder.writePushHeader(count: elements.count, version: version, into: &sink)
            for element in elements { element.encode(into: &sink, version: version) }
        }
    }

    /// This value's form between Cohort's nodes (a forwarded or proxied command's reply):
    /// RESP3, except that a null array keeps its RESP2 form `*-1`. RESP3 writes a null array
    /// and a null bulk string alike (`_`), and the node that relays the reply may have to
    /// write it to a RESP2 client, for whom EXEC's aborted answer is `*-1`, not `$-1`.
    /// `RESPValueReader` reads `*-1` back as a null array in either protocol.
    public func encodeForPeers(into sink: inout some RESPByteSink) {
        switch self {
        case .nullArray:
            RESPEncoder.writeNullArray(version: .resp2, into: &sink)
        case .array(let elements):
            RESPEncoder.writeArrayHeader(count: elements.count, into: &sink)
            for element in elements { element.encodeForPeers(into: &sink) }
        case .map(let pairs):
            RESPEncoder.writeMapHeader(count: pairs.count, version: .resp3, into: &sink)
            for (key, value) in pairs {
                key.encodeForPeers(into: &sink)
                value.encodeForPeers(into: &sink)
            }
        case .set(let elements):
            RESPEncoder.writeSetHeader(count: elements.count, version: .resp3, into: &sink)
            for element in elements { element.encodeForPeers(into: &sink) }
        case .push(let elements):
            RESPEncoder.writePushHeader(count: elements.count, version: .resp3, into: &sink)
            for element in elements { element.encodeForPeers(into: &sink) }
        default:
            encode(into: &sink, version: .resp3)
        }
    }

    /// This value's wire form as a new byte array.
    public func encoded(version: RESPVersion) -> [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes, version: version)
        return bytes
    }
}
