import CohortCore
import Testing

@testable import CohortStorage

/// Recovery's resolution of every loaded version into the index (`resolveLoaded`), against a
/// dictionary model: the highest sequence of each key wins, the first loaded among equal
/// sequences; deletion markers, expired versions and versions older than the last clear leave
/// nothing; keys come out in byte order, also when they share their first 16 bytes.
@Suite struct RecoveryResolutionTests {
    func entry(_ sequence: UInt64, tombstone: Bool, expiresAt: UInt64, offset: UInt64) -> IndexEntry
    {
        IndexEntry(
            segmentID: 1, offset: offset, recordLength: 60,
            metadata: VersionMetadata(
                sequence: sequence, timestamp: .zero, origin: NodeID(1), isTombstone: tombstone,
                type: .string, expiresAtMillis: expiresAt))
    }

    @Test(arguments: [11, 12, 13] as [UInt64])
    func agreesWithAModel(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        // Long shared prefixes, short keys, keys that are prefixes of others, and zero bytes.
        let stems: [[UInt8]] = [
            Array("user:session:0000".utf8), Array("k".utf8), [], [0], Array("key:".utf8),
        ]
        var loaded: [(key: [UInt8], entry: IndexEntry)] = []
        for position in 0..<3_000 {
            let stem = stems[Int.random(in: 0..<stems.count, using: &random)]
            var key = stem + Array("\(Int.random(in: 0..<300, using: &random))".utf8)
            if Int.random(in: 0..<10, using: &random) == 0 { key.append(0) }
            // Sequences repeat on purpose: an interrupted compaction leaves equal copies.
            let sequence = UInt64.random(in: 1...2_000, using: &random)
            let tombstone = Int.random(in: 0..<8, using: &random) == 0
            let expiresAt: UInt64 =
                Int.random(in: 0..<8, using: &random) == 0
                ? UInt64.random(in: 1...2_000, using: &random) : 0
            loaded.append(
                (
                    key,
                    entry(
                        sequence, tombstone: tombstone, expiresAt: expiresAt,
                        offset: UInt64(position))
                ))
        }
        let clearSequence: UInt64 = 300
        let now: UInt64 = 1_000
        var winners: [[UInt8]: IndexEntry] = [:]
        for (key, candidate) in loaded {
            if let held = winners[key], held.metadata.sequence >= candidate.metadata.sequence {
                continue
            }
            winners[key] = candidate
        }
        let expected = winners.filter { _, entry in
            !entry.metadata.isTombstone && !entry.metadata.isExpired(nowMillis: now)
                && entry.metadata.sequence >= clearSequence
        }
        .sorted { OrderedIndex.compare($0.key, $1.key) < 0 }
        let (keys, entries) = StorageEngine.resolveLoaded(
            loaded, clearSequence: clearSequence, nowMillis: now)
        #expect(keys == expected.map(\.key))
        #expect(entries == expected.map(\.value))
        #expect(!keys.isEmpty && keys.count < winners.count)
    }
}
