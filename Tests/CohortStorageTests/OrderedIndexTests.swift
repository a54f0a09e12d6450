import CohortCore
import Testing

@testable import CohortStorage

@Suite struct OrderedIndexTests {
    func entry(_ sequence: UInt64) -> IndexEntry { .testing(sequence) }

    func contents(_ index: OrderedIndex, after cursor: [UInt8]? = nil) -> [([UInt8], UInt64)] {
        var iterator = index.makeIterator(after: cursor)
        var result: [([UInt8], UInt64)] = []
        while let (key, entry) = iterator.next() { result.append((key, entry.metadata.sequence)) }
        return result
    }

    /// Property: random inserts and removes agree with a naive sorted model, and snapshots taken
    /// along the way never change.
    @Test(arguments: [11, 12] as [UInt64])
    func agreesWithModelAndSnapshotsStayFrozen(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var index = OrderedIndex()
        var model: [[UInt8]: UInt64] = [:]
        var snapshots: [(OrderedIndex, [([UInt8], UInt64)])] = []
        for step in 1...6_000 {
            let key = [UInt8](String(Int.random(in: 0..<1_500, using: &random)).utf8)
            if Int.random(in: 0..<3, using: &random) == 0 {
                #expect((index.remove(key) != nil) == (model.removeValue(forKey: key) != nil))
            } else {
                let previous = index.insert(key, entry(UInt64(step))).previous
                #expect(previous?.metadata.sequence == model[key])
                model[key] = UInt64(step)
            }
            if step % 1_000 == 0 {
                snapshots.append((index, contents(index)))
            }
        }
        let expected = model.sorted { OrderedIndex.compare($0.key, $1.key) < 0 }
        let actual = contents(index)
        #expect(index.count == model.count)
        #expect(actual.map(\.0) == expected.map(\.key))
        #expect(actual.map(\.1) == expected.map(\.value))
        for (snapshot, frozen) in snapshots {
            let now = contents(snapshot)
            #expect(now.map(\.0) == frozen.map(\.0) && now.map(\.1) == frozen.map(\.1))
        }
        // Iteration after a cursor starts strictly above it.
        if let middle = expected.dropFirst(expected.count / 2).first?.key {
            #expect(contents(index, after: middle).first.map(\.0) != middle)
            #expect(contents(index, after: middle).count == expected.count - expected.count / 2 - 1)
        }
        for key in model.keys { index.remove(key) }
        #expect(index.count == 0 && contents(index).isEmpty && index.root.isLeaf)
    }

    @Test func bytesCompareUnsignedLexicographically() {
        #expect(OrderedIndex.compare([], [0]) < 0)
        #expect(OrderedIndex.compare([0x7F], [0x80]) < 0)
        #expect(OrderedIndex.compare([1, 2], [1]) > 0)
        #expect(OrderedIndex.compare([1, 2], [1, 2]) == 0)
    }
}
