/// Bytes pulled piece by piece from somewhere larger than memory should hold at once (a
/// snapshot file), read as a stream with a small buffer.
public struct SnapshotByteSource {
    /// The next piece, or nil at the end. A piece may be empty only at the end.
    private let pull: () throws -> [UInt8]?
    private var buffer: [UInt8] = []
    private var position = 0
    private var isExhausted = false
    /// Bytes consumed so far.
    public private(set) var consumed = 0

    /// A source over `pull`.
    public init(_ pull: @escaping () throws -> [UInt8]?) {
        self.pull = pull
    }

    /// A source over bytes in memory, handed out in pieces of `pieceBytes`.
    public init(_ bytes: [UInt8], pieceBytes: Int = 1 << 16) {
        var offset = 0
        self.init {
            guard offset < bytes.count else { return nil }
            defer { offset = min(bytes.count, offset + pieceBytes) }
            return Array(bytes[offset..<min(bytes.count, offset + pieceBytes)])
        }
    }

    /// The next `count` bytes, or nil when the source ends first.
    public mutating func read(_ count: Int) throws -> ArraySlice<UInt8>? {
        while buffer.count - position < count {
            guard !isExhausted, let piece = try pull(), !piece.isEmpty else {
                isExhausted = true
                return nil
            }
            if position > 0 {
                buffer.removeFirst(position)
                position = 0
            }
            buffer.append(contentsOf: piece)
        }
        defer {
            position += count
            consumed += count
        }
        return buffer[position..<(position + count)]
    }

    /// The next byte without consuming it, or nil at the end.
    public mutating func peekByte() throws -> UInt8? {
        guard try read(1) != nil else { return nil }
        position -= 1
        consumed -= 1
        return buffer[position]
    }

    /// One byte, or nil at the end.
    public mutating func byte() throws -> UInt8? {
        try read(1)?.first
    }

    /// A little-endian u32, or nil at the end.
    public mutating func uint32() throws -> UInt32? {
        guard let bytes = try read(4) else { return nil }
        return ByteCoding.integer(littleEndian: bytes)
    }

    /// A little-endian u64, or nil at the end.
    public mutating func uint64() throws -> UInt64? {
        guard let bytes = try read(8) else { return nil }
        return ByteCoding.integer(littleEndian: bytes)
    }

    /// A u32 length, then that many bytes (at most `limit`); nil when the source ends or the
    /// length is over the limit.
    public mutating func lengthPrefixed(limit: Int) throws -> [UInt8]? {
        guard let length = try uint32(), Int(length) <= limit else { return nil }
        return try read(Int(length)).map(Array.init)
    }

    /// Whether the source has ended (nothing is left to read).
    public mutating func isAtEnd() throws -> Bool {
        if buffer.count > position { return false }
        return try !peekPiece()
    }

    private mutating func peekPiece() throws -> Bool {
        guard !isExhausted, let piece = try pull(), !piece.isEmpty else {
            isExhausted = true
            return false
        }
        buffer.removeFirst(position)
        position = 0
        buffer.append(contentsOf: piece)
        return true
    }
}
