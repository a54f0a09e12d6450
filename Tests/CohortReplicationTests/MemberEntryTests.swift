import CohortCore
import Testing

@testable import CohortReplication

struct MemberEntryTests {
    @Test(arguments: MemberEntry.Role.allCases)
    func roundTrips(role: MemberEntry.Role) {
        let entry = MemberEntry(name: "n4", host: "10.0.0.4", port: 17_382, role: role)
        let bytes = entry.encoded()
        #expect(bytes.first == MemberEntry.tag)
        #expect(MemberEntry.decode(bytes) == entry)
        // Never mistaken for a logical entry, and the other way round.
        #expect(LogicalEntryCodec.decode(bytes) == nil)
        #expect(MemberEntry.decode(LogicalEntryCodec.encode(LogicalEntry())) == nil)
    }

    @Test func malformedInputIsRefused() {
        let bytes = MemberEntry(name: "n4", host: "h", port: 1, role: .voter).encoded()
        for length in 0..<bytes.count {
            #expect(MemberEntry.decode(Array(bytes.prefix(length))) == nil)
        }
        #expect(MemberEntry.decode(bytes + [0]) == nil)
        var badRole = bytes
        badRole[1] = 9
        #expect(MemberEntry.decode(badRole) == nil)
        var zeroPort = bytes
        zeroPort[2...5] = [0, 0, 0, 0]
        #expect(MemberEntry.decode(zeroPort) == nil)
        #expect(
            MemberEntry.decode(MemberEntry(name: "", host: "h", port: 1, role: .voter).encoded())
                == nil)
        var random = SplitMix64(seed: 7)
        for _ in 0..<5_000 {
            var noise = [MemberEntry.tag]
            for _ in 0..<random.below(40) { noise.append(UInt8(truncatingIfNeeded: random.next())) }
            _ = MemberEntry.decode(noise)
        }
    }
}
