import CohortCore
import Testing

@testable import CohortStorage

@Suite struct KeyIndexTests {
    func entry(_ sequence: UInt64) -> IndexEntry { .testing(sequence) }

    func contents(_ tree: OrderedIndex) -> [([UInt8], UInt64)] {
        var iterator = tree.makeIterator()
        var result: [([UInt8], UInt64)] = []
        while let (key, entry) = iterator.next() { result.append((key, entry.metadata.sequence)) }
        return result
    }

    /// Property: point lookups, iteration and the tree agree with a naive model through random
    /// inserts, overwrites (in place or not) and removes, and trees taken with `snapshotTree`
    /// never see a later write, however often the same keys are overwritten afterwards.
    @Test(arguments: [21, 22] as [UInt64])
    func agreesWithModelAndSnapshotsStayFrozen(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var index = KeyIndex()
        var model: [[UInt8]: UInt64] = [:]
        var snapshots: [(OrderedIndex, [([UInt8], UInt64)])] = []
        for step in 1...8_000 {
            let key = [UInt8](String(Int.random(in: 0..<700, using: &random)).utf8)
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                #expect(index.remove(key)?.metadata.sequence == model.removeValue(forKey: key))
            case 1:
                // A refused replacement changes nothing.
                let result = index.insert(key, entry(UInt64(step))) { _ in false }
                #expect(result.previous?.metadata.sequence == model[key])
                if model[key] == nil { model[key] = UInt64(step) }
            default:
                let previous = index.insert(key, entry(UInt64(step))).previous
                #expect(previous?.metadata.sequence == model[key])
                model[key] = UInt64(step)
            }
            #expect(index.get(key)?.metadata.sequence == model[key])
            if step % 700 == 0 {
                let tree = index.snapshotTree()
                snapshots.append((tree, contents(tree)))
            }
        }
        let expected = model.sorted { OrderedIndex.compare($0.key, $1.key) < 0 }
        var iterator = index.makeIterator()
        var actual: [([UInt8], UInt64)] = []
        while let (key, entry) = iterator.next() { actual.append((key, entry.metadata.sequence)) }
        #expect(index.count == model.count)
        #expect(actual.map(\.0) == expected.map(\.key))
        #expect(actual.map(\.1) == expected.map(\.value))
        for (key, sequence) in model { #expect(index.get(key)?.metadata.sequence == sequence) }
        for (tree, frozen) in snapshots {
            let now = contents(tree)
            #expect(now.map(\.0) == frozen.map(\.0) && now.map(\.1) == frozen.map(\.1))
        }
    }

    /// A checkpointed index answers point lookups and overwrites like a built one.
    @Test func sortedKeysLoadAnswersLookups() {
        let keys = (0..<300).map { [UInt8](String(format: "k%04d", $0).utf8) }
        var index = KeyIndex(sortedKeys: keys, entries: keys.indices.map { entry(UInt64($0)) })
        let before = index.snapshotTree()
        #expect(index.count == 300 && index.get(keys[7])?.metadata.sequence == 7)
        #expect(index.insert(keys[7], entry(1_000)).previous?.metadata.sequence == 7)
        #expect(index.get(keys[7])?.metadata.sequence == 1_000)
        #expect(before.get(keys[7])?.metadata.sequence == 7)
        #expect(index.remove(keys[8])?.metadata.sequence == 8 && index.get(keys[8]) == nil)
        #expect(before.get(keys[8])?.metadata.sequence == 8)
    }

    /// An index loaded at a restart (a checkpoint or the resolved segments) shares each key's
    /// slot between the tree and the table: an overwrite in place (no snapshot taken, so no new
    /// generation) shows in iteration and in a later tree, not only in point lookups.
    @Test func loadedIndexesShareSlotsBetweenTreeAndTable() {
        let keys = (0..<200).map { [UInt8](String(format: "k%04d", $0).utf8) }
        let entries = keys.indices.map { entry(UInt64($0)) }
        var index = KeyIndex(sortedKeys: keys, entries: entries)
        #expect(index.insert(keys[5], entry(5_000)).previous?.metadata.sequence == 5)
        #expect(index.remove(keys[6])?.metadata.sequence == 6)
        var iterator = index.makeIterator()
        var seen: [[UInt8]: UInt64] = [:]
        while let (key, entry) = iterator.next() { seen[key] = entry.metadata.sequence }
        #expect(seen[keys[5]] == 5_000)
        #expect(seen[keys[6]] == nil && seen.count == 199)
        let tree = index.snapshotTree()
        #expect(tree.get(keys[5])?.metadata.sequence == 5_000)
        #expect(tree.get(keys[6]) == nil)
    }
}
