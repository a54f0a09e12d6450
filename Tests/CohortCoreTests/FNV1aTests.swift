import Testing

@testable import CohortCore

struct FNV1aTests {
    /// Published FNV-1a 64-bit vectors: ids derived from names must never change between
    /// versions, or nodes of different versions would disagree on who is who.
    @Test func matchesTheReferenceVectors() {
        #expect(FNV1a.hash([UInt8]()) == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a.hash("a".utf8) == 0xaf63_dc4c_8601_ec8c)
        #expect(FNV1a.hash("foobar".utf8) == 0x8594_4171_f739_67e8)
    }
}
