/// Reads little-endian fields from a borrowed buffer for ``RaftMessageCodec``. Every read
/// checks the bytes that remain first and throws ``RaftMessageDecodeError/truncated`` instead
/// of reading past the end.
struct RaftMessageReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Bytes not yet read.
    var remainingBytes: Int { bytes.count - offset }

    mutating func byte() throws(RaftMessageDecodeError) -> UInt8 {
        guard remainingBytes >= 1 else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func integer<Value: FixedWidthInteger>(
        _: Value.Type
    ) throws(RaftMessageDecodeError) -> Value {
        let size = MemoryLayout<Value>.size
        guard remainingBytes >= size else { throw .truncated }
        defer { offset += size }
        return Value(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Value.self))
    }

    mutating func word() throws(RaftMessageDecodeError) -> UInt64 {
        try integer(UInt64.self)
    }

    /// A u32 count of items at least `itemBytesMin` long each, at most `limit`, and no more
    /// than the remaining bytes could hold, so no allocation is ever sized by a lie.
    mutating func count(limit: Int, itemBytesMin: Int) throws(RaftMessageDecodeError) -> Int {
        let count = Int(try integer(UInt32.self))
        guard count <= limit else { throw .limitExceeded }
        guard itemBytesMin == 0 || count <= remainingBytes / itemBytesMin else {
            throw .truncated
        }
        return count
    }

    /// A u32-length-prefixed byte string of at most `limit` bytes.
    mutating func byteString(limit: Int) throws(RaftMessageDecodeError) -> [UInt8] {
        let length = try count(limit: limit, itemBytesMin: 1)
        defer { offset += length }
        return [UInt8](UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
    }
}
