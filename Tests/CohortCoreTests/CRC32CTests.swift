import Testing

@testable import CohortCore

@Suite struct CRC32CTests {
    @Test func knownVectors() {
        // RFC 3720 B.4 check value for "123456789".
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test func seedContinuesAChecksum() {
        let data = Array("the quick brown fox jumps over the lazy dog".utf8)
        for split in 0...data.count {
            let first = CRC32C.checksum(data[0..<split])
            #expect(CRC32C.checksum(data[split...], seed: first) == CRC32C.checksum(data))
        }
    }

    @Test func anySingleBitFlipIsDetected() {
        var data = [UInt8](repeating: 0, count: 64)
        for index in data.indices { data[index] = UInt8(truncatingIfNeeded: index &* 31) }
        let original = CRC32C.checksum(data)
        for bit in 0..<(data.count * 8) {
            var flipped = data
            flipped[bit / 8] ^= UInt8(1 << (bit % 8))
            #expect(CRC32C.checksum(flipped) != original)
        }
    }

    /// The instruction (when this CPU has it) and the software tables agree, at every length
    /// and alignment around the 8-byte steps and with seeds carried over.
    @Test func hardwareAndSoftwareAgree() {
        #if arch(x86_64)
            // Every x86-64 CPU since 2008 has SSE 4.2; without it this test would compare the
            // software path with itself.
            #expect(CRC32C.usesHardware)
        #endif
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let data = (0..<4_096).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        data.withUnsafeBytes { raw in
            for start in 0..<9 {
                for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1_000, 4_000] {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])
                    for seed in [0, 0xDEAD_BEEF] as [UInt32] {
                        #expect(
                            CRC32C.checksum(slice, seed: seed)
                                == CRC32C.softwareChecksum(slice, seed: seed),
                            "start \(start) length \(length)")
                    }
                }
            }
        }
    }
}
