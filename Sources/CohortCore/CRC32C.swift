import CohortCRC

/// CRC-32C (Castagnoli), the checksum used on every record and frame. It detects all burst
/// errors up to 32 bits and torn writes, which is what records need. Computed with the CPU's
/// crc32 instruction where there is one (SSE 4.2, through `CohortCRC`), else in software,
/// slicing-by-8; both give the same values.
public enum CRC32C {
    /// Whether this CPU computes CRC-32C itself; decided once.
    static let usesHardware = cohort_crc32c_hardware_available() != 0

    private static let polynomial: UInt32 = 0x82F6_3B78

    /// Eight 256-entry tables for slicing-by-8, built once.
    private static let tables: [[UInt32]] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1
            }
            tables[0][byte] = crc
        }
        for byte in 0..<256 {
            var crc = tables[0][byte]
            for slice in 1..<8 {
                crc = tables[0][Int(crc & 0xFF)] ^ (crc >> 8)
                tables[slice][byte] = crc
            }
        }
        return tables
    }()

    /// The checksum of `bytes`, continuing from `seed` (the checksum of what came before).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        guard usesHardware else { return softwareChecksum(bytes, seed: seed) }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return seed }
        return ~cohort_crc32c_update(~seed, base, bytes.count)
    }

    /// The software computation, slicing-by-8: what `checksum` uses without the instruction.
    static func softwareChecksum(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        var crc = ~seed
        let count = bytes.count
        guard count > 0, let base = bytes.baseAddress else { return seed }
        var index = 0
        tables.withUnsafeBufferPointer { all in
            let t0 = all[0]
            let t1 = all[1]
            let t2 = all[2]
            let t3 = all[3]
            let t4 = all[4]
            let t5 = all[5]
            let t6 = all[6]
            let t7 = all[7]
            while count - index >= 8 {
                let low =
                    UInt32(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt32.self))
                    ^ crc
                let high = UInt32(
                    littleEndian: base.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self))
                crc =
                    t7[Int(low & 0xFF)] ^ t6[Int((low >> 8) & 0xFF)]
                    ^ t5[Int((low >> 16) & 0xFF)] ^ t4[Int(low >> 24)]
                    ^ t3[Int(high & 0xFF)] ^ t2[Int((high >> 8) & 0xFF)]
                    ^ t1[Int((high >> 16) & 0xFF)] ^ t0[Int(high >> 24)]
                index += 8
            }
            while index < count {
                let byte = base.load(fromByteOffset: index, as: UInt8.self)
                crc = t0[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
                index += 1
            }
        }
        return ~crc
    }

    /// The checksum of a byte array.
    public static func checksum<Bytes: Collection>(_ bytes: Bytes, seed: UInt32 = 0) -> UInt32
    where Bytes.Element == UInt8 {
        if let result = bytes.withContiguousStorageIfAvailable({
            checksum(UnsafeRawBufferPointer($0), seed: seed)
        }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { checksum($0, seed: seed) }
    }
}
