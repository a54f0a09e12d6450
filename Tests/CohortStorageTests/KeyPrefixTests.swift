import CohortCore
import Testing

@testable import CohortStorage

struct KeyPrefixTests {
    /// Whenever two prefixes differ, they order the keys as byte-wise comparison does; keys
    /// with zero bytes, keys that end inside the prefix and keys that share 16 bytes included.
    @Test func prefixOrderAgreesWithByteOrder() {
        var random = SplitMix64(seed: 99)
        func key() -> [UInt8] {
            let length = Int(random.below(24))
            // A small alphabet with zero makes shared prefixes and padding ties common.
            return (0..<length).map { _ in [0, 1, 97, 255][Int(random.below(4))] }
        }
        var decidedByPrefix = 0
        for _ in 0..<50_000 {
            let left = key()
            let right = key()
            let bytes = OrderedIndex.compare(left, right).signum()
            let prefix = KeyPrefix(left).compare(KeyPrefix(right))
            if prefix != 0 {
                decidedByPrefix += 1
                #expect(prefix == bytes, "\(left) vs \(right): prefix \(prefix), bytes \(bytes)")
            }
        }
        #expect(decidedByPrefix > 10_000)
        #expect(KeyPrefix([97]).compare(KeyPrefix([97, 0])) == 0, "a tie the bytes must break")
        #expect(OrderedIndex.compare([97], [97, 0]) < 0)
    }
}
