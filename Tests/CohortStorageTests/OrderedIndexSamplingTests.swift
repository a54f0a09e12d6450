import CohortCore
import Testing

@testable import CohortStorage

/// `OrderedIndex.randomSlot`: draws stay in their range and are uniform over it, whether the
/// range fills whole leaves or cuts through them, and however full the nodes are.
@Suite struct OrderedIndexSamplingTests {
    func entry(_ sequence: UInt64) -> IndexEntry { .testing(sequence) }

    func key(_ group: Int, _ number: Int) -> [UInt8] {
        Array("g\(group):\(String(number + 100_000))".utf8)
    }

    /// Three groups of keys inserted in random order (nodes half to fully full), then many draws
    /// from the middle group: each of its keys is drawn close to equally often.
    @Test(arguments: [3, 4] as [UInt64])
    func drawsAreUniformOverTheRange(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var index = OrderedIndex()
        let sizes = [5_000, 700, 3_000]
        var keys: [[UInt8]] = []
        for (group, size) in sizes.enumerated() {
            for number in 0..<size { keys.append(key(group, number)) }
        }
        keys.shuffle(using: &random)
        for (position, key) in keys.enumerated() { index.insert(key, entry(UInt64(position))) }
        // Remove some, so that leaves are uneven.
        for number in stride(from: 0, to: 700, by: 7) { index.remove(key(1, number)) }
        let lower = Array("g1:".utf8)
        let upper = Array("g1;".utf8)
        var counts: [[UInt8]: Int] = [:]
        let draws = 60_000
        for _ in 0..<draws {
            let drawn = index.randomSlot(from: lower, below: upper, attemptsMax: 1_000) {
                Int.random(in: 0..<$0, using: &random)
            }
            guard let drawn else {
                Issue.record("a draw from a non-empty range failed")
                return
            }
            #expect(drawn.key.starts(with: lower))
            #expect(drawn.slot.key == drawn.key)
            counts[drawn.key, default: 0] += 1
        }
        let live = 700 - 100
        #expect(counts.count == live, "every key of the range is drawn")
        let expected = Double(draws) / Double(live)
        // 100 expected draws per key: a binomial's spread is about 10, so 55...145 holds
        // unless the draw is biased (a draw without rejection favours keys in sparse leaves).
        #expect(counts.values.min()! >= Int(expected * 0.55))
        #expect(counts.values.max()! <= Int(expected * 1.45))
    }

    @Test func emptyRangesAndSmallTreesAnswerAsExpected() {
        var random = SeededGenerator(seed: 9)
        var index = OrderedIndex()
        #expect(index.randomSlot(from: [1], below: [2], attemptsMax: 10) { _ in 0 } == nil)
        for number in 0..<10 { index.insert(key(0, number), entry(UInt64(number))) }
        #expect(
            index.randomSlot(from: Array("h".utf8), below: Array("i".utf8), attemptsMax: 50) {
                Int.random(in: 0..<$0, using: &random)
            } == nil)
        var seen = Set<[UInt8]>()
        for _ in 0..<2_000 {
            if let drawn = index.randomSlot(
                from: Array("g0:".utf8), below: Array("g0;".utf8), attemptsMax: 1_000,
                draw: { Int.random(in: 0..<$0, using: &random) })
            {
                seen.insert(drawn.key)
            }
        }
        #expect(seen.count == 10)
    }
}
