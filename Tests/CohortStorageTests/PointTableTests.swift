import CohortCore
import Testing

@testable import CohortStorage

@Suite struct PointTableTests {
    func slot(_ sequence: UInt64, key: [UInt8]) -> IndexSlot {
        IndexSlot.make(
            key: key,
            entry: IndexEntry(
                segmentID: 1, offset: sequence, recordLength: 60,
                metadata: VersionMetadata(
                    sequence: sequence, timestamp: .zero, origin: NodeID(1), isTombstone: false,
                    type: .string, expiresAtMillis: 0)),
            generation: 0)
    }

    /// Property: through random inserts, replacements and removals over enough keys to grow the
    /// table several times and to form long probe runs, every key answers what a dictionary
    /// model says, and so does every key never inserted or already removed (backward-shift
    /// deletion must not cut a run short).
    @Test(arguments: [5, 6] as [UInt64])
    func agreesWithDictionaryModel(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var table = PointTable()
        var model: [[UInt8]: IndexSlot] = [:]
        for step in 1...30_000 {
            let key = [UInt8]("k\(Int.random(in: 0..<6_000, using: &random))".utf8)
            if Int.random(in: 0..<3, using: &random) == 0 {
                #expect(table.remove(key) === model.removeValue(forKey: key))
            } else {
                let fresh = slot(UInt64(step), key: key)
                table.set(fresh)
                model[key] = fresh
            }
            if step % 5_000 == 0 {
                #expect(table.count == model.count)
                for number in 0..<6_100 {
                    let probe = [UInt8]("k\(number)".utf8)
                    #expect(table.slot(probe) === model[probe])
                }
            }
        }
        for key in Array(model.keys) {
            #expect(table.remove(key) === model.removeValue(forKey: key))
        }
        #expect(table.count == 0)
    }

    @Test func presizedTableHoldsItsCapacityAndProbesTellWhereKeysGo() {
        var table = PointTable(capacity: 1_000)
        let key: [UInt8] = Array("alpha".utf8)
        let absent = table.probe(key)
        #expect(table.slot(at: absent) == nil)
        let first = slot(1, key: key)
        table.insert(first, absentAt: absent)
        let present = table.probe(key)
        #expect(table.slot(at: present) === first)
        let second = slot(2, key: key)
        table.replace(at: present, with: second)
        #expect(table.slot(key) === second && table.count == 1)
        #expect(table.slot([]) == nil, "the empty key is a key like any other")
        let empty = slot(3, key: [])
        table.set(empty)
        #expect(table.slot([]) === empty && table.count == 2)
    }
}

/// The bulk build of a restart (`init(distinctSlots:)`) holds exactly what inserting the
/// keys one by one would.
@Suite struct PointTableBulkBuildTests {
    @Test(arguments: [0, 1, 7, 20, 5_000])
    func bulkBuildFindsEveryKeyAndNoOther(count: Int) {
        let keys = (0..<count).map { Array("bulk:\($0)".utf8) }.sorted {
            OrderedIndex.compare($0, $1) < 0
        }
        let slots = keys.indices.map { position in
            IndexSlot.make(
                key: keys[position],
                entry: IndexEntry(
                    segmentID: 1, offset: UInt64(position), recordLength: 60,
                    metadata: VersionMetadata(
                        sequence: UInt64(position), timestamp: .zero, origin: NodeID(1),
                        isTombstone: false, type: .string, expiresAtMillis: 0)),
                generation: 0)
        }
        var table = PointTable(distinctSlots: slots)
        #expect(table.count == count)
        for (key, slot) in zip(keys, slots) {
            #expect(table.slot(key) === slot)
        }
        #expect(table.slot(Array("bulk:\(count)".utf8)) == nil)
        #expect(table.slot([]) == nil)
        // It stays an ordinary table: later inserts and removals work on it.
        if let first = keys.first {
            #expect(table.remove(first) === slots[0])
            #expect(table.slot(first) == nil)
            table.set(slots[0])
            #expect(table.slot(first) === slots[0])
        }
    }
}
