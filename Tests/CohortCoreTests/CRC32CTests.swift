import CohortCore
import Testing

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
}
