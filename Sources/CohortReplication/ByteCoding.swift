/// Little-endian helpers for the replication formats. Reads never trap: they return nil when
/// the input is short.
enum ByteCoding {
    static func append(_ value: UInt32, to out: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) {
            out.append(UInt8(truncatingIfNeeded: value >> shift))
        }
    }

    static func append(_ value: UInt64, to out: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) {
            out.append(UInt8(truncatingIfNeeded: value >> shift))
        }
    }

    /// The little-endian integer in `bytes` (as many as the type holds).
    static func integer<T: FixedWidthInteger & UnsignedInteger>(
        littleEndian bytes: ArraySlice<UInt8>, as type: T.Type = T.self
    ) -> T {
        bytes.reversed().reduce(0) { $0 << 8 | T($1) }
    }

    /// A u32 length, then the bytes.
    static func appendBytes(_ bytes: [UInt8], to out: inout [UInt8]) {
        precondition(bytes.count <= Int(UInt32.max), "\(bytes.count) bytes exceed a u32 length")
        append(UInt32(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }

    /// A cursor over bytes.
    struct Reader {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var remaining: Int { bytes.count - position }

        mutating func byte() -> UInt8? {
            guard remaining >= 1 else { return nil }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func uint32() -> UInt32? {
            guard remaining >= 4 else { return nil }
            var value: UInt32 = 0
            for offset in 0..<4 { value |= UInt32(bytes[position + offset]) << (8 * offset) }
            position += 4
            return value
        }

        mutating func uint64() -> UInt64? {
            guard remaining >= 8 else { return nil }
            var value: UInt64 = 0
            for offset in 0..<8 { value |= UInt64(bytes[position + offset]) << (8 * offset) }
            position += 8
            return value
        }

        /// A u32 length, then that many bytes.
        mutating func lengthPrefixed() -> [UInt8]? {
            guard let length = uint32(), Int(length) <= remaining else { return nil }
            defer { position += Int(length) }
            return Array(bytes[position..<(position + Int(length))])
        }
    }
}
