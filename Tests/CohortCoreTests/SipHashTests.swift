import Testing

@testable import CohortCore

@Suite struct SipHashTests {
    @Test func sipHash24MatchesThePaper() {
        // SipHash paper, appendix A: key 00 01 .. 0f, message 00 01 .. 0e.
        let key0: UInt64 = 0x0706_0504_0302_0100
        let key1: UInt64 = 0x0F0E_0D0C_0B0A_0908
        #expect(SipHash.hash24(key0: key0, key1: key1, Array(0..<15)) == 0xA129_CA61_49BE_45E5)
        // The reference implementation's first vector: the empty message.
        #expect(SipHash.hash24(key0: key0, key1: key1, []) == 0x726F_DB47_DD0E_0E31)
    }

    /// CPython hashes bytes with SipHash-1-3; with PYTHONHASHSEED=0 its key is all zeroes, so
    /// `PYTHONHASHSEED=0 python3 -c "print(hex(hash(b'a') & (2**64 - 1)))"` gives these.
    @Test func sipHash13MatchesCPython() {
        let vectors: [(String, UInt64)] = [
            ("a", 0x4074_48D2_B89B_1813),
            ("abcdefgh", 0x3F7B_849C_0B8E_35EA),
            ("key:000000012345", 0x286C_B3DF_EBAB_533D),
        ]
        for (message, expected) in vectors {
            #expect(SipHash.hash13(key0: 0, key1: 0, Array(message.utf8)) == expected, "\(message)")
        }
        #expect(SipHash.hash13(key0: 0, key1: 0, Array(0..<15)) == 0xF30E_B725_BB91_C9EA)
    }

    @Test func theKeyChangesEveryHash() {
        let message = Array("key:000000012345".utf8)
        #expect(
            SipHash.hash13(key0: 1, key1: 0, message) != SipHash.hash13(key0: 0, key1: 0, message))
        #expect(
            SipHash.hash13(key0: 0, key1: 1, message) != SipHash.hash13(key0: 0, key1: 0, message))
        #expect(
            SipHash.hash24(key0: 0, key1: 0, message) != SipHash.hash13(key0: 0, key1: 0, message))
    }
}
