import Testing

@testable import CohortSim

@Suite struct SimRandomTests {
    @Test func sameSeedSameStreamDifferentSeedDifferentStream() {
        var first = SimRandom(seed: 7)
        var second = SimRandom(seed: 7)
        var other = SimRandom(seed: 8)
        let a = (0..<16).map { _ in first.next() }
        let b = (0..<16).map { _ in second.next() }
        let c = (0..<16).map { _ in other.next() }
        #expect(a == b)
        #expect(a != c)
    }

    @Test func boundedDrawsStayInRangeAndCoverIt() {
        var random = SimRandom(seed: 1)
        var seen = Set<Int>()
        for _ in 0..<1_000 {
            let value = random.integer(in: 3...9)
            #expect((3...9).contains(value))
            seen.insert(value)
        }
        #expect(seen == Set(3...9))
        let heads = (0..<10_000).filter { _ in random.chance(0.25) }.count
        #expect((2_000...3_000).contains(heads))
    }
}
