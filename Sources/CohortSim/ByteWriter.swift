/// Appends little-endian fields to a byte array (the inverse of `ByteReader`).
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func word(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    mutating func integer(_ value: Int) {
        word(UInt64(bitPattern: Int64(value)))
    }
}
