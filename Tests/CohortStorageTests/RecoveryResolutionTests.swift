import CohortCore
import Testing

@testable import CohortStorage

/// Recovery's resolution of every loaded version into the index (`resolveLoaded`), against a
/// dictionary model: the highest sequence of each key wins, the first loaded among equal
/// sequences; deletion markers, expired versions and versions older than the last clear leave
/// nothing; keys come out in byte order, also when they share their first 16 bytes; clear
/// records name no key; each segment's live bytes are its winners' records.
@Suite struct RecoveryResolutionTests {
    func entry(_ sequence: UInt64, tombstone: Bool, expiresAt: UInt64) -> IndexEntry {
        IndexEntry(
            segmentID: 1, offset: 0, recordLength: 60,
            metadata: VersionMetadata(
                sequence: sequence, timestamp: .zero, origin: NodeID(1), isTombstone: tombstone,
                type: .string, expiresAtMillis: expiresAt))
    }

    /// Seeds 11-13 resolve a few thousand versions (the sort runs on one thread); seed 14
    /// resolves enough that the sort splits across two threads and merges.
    @Test(arguments: [(11, 3_000), (12, 3_000), (13, 3_000), (14, 150_000)] as [(UInt64, Int)])
    func agreesWithAModel(seed: UInt64, versions: Int) {
        var random = SeededGenerator(seed: seed)
        // Long shared prefixes, short keys, keys that are prefixes of others, and zero bytes.
        let stems: [[UInt8]] = [
            Array("user:session:0000".utf8), Array("k".utf8), [], [0], Array("key:".utf8),
        ]
        let keyChoices = max(300, versions / 10)
        // Loaded in this order from segments with these ids (compacted segments carry higher
        // ids than what they hold, so load order is not id order).
        let segmentIDs: [UInt32] = [3, 1, 7]
        var segments = segmentIDs.map { StorageEngine.LoadedSegment(id: $0, versions: []) }
        var loaded: [(key: [UInt8], entry: IndexEntry)] = []
        for _ in 0..<versions {
            let stem = stems[Int.random(in: 0..<stems.count, using: &random)]
            var key = stem + Array("\(Int.random(in: 0..<keyChoices, using: &random))".utf8)
            if Int.random(in: 0..<10, using: &random) == 0 { key.append(0) }
            // Sequences repeat on purpose: an interrupted compaction leaves equal copies.
            let sequence = UInt64.random(in: 1...UInt64(versions), using: &random)
            let segment = Int.random(in: 0..<segments.count, using: &random)
            if Int.random(in: 0..<200, using: &random) == 0 {
                // A clear record: names no key, and is not a version of one.
                segments[segment].versions.append(
                    HintEntry(
                        key: [], metadata: entry(sequence, tombstone: false, expiresAt: 0).metadata,
                        isClear: true, offset: 0, recordLength: 30))
                continue
            }
            let tombstone = Int.random(in: 0..<8, using: &random) == 0
            let expiresAt: UInt64 =
                Int.random(in: 0..<8, using: &random) == 0
                ? UInt64.random(in: 1...UInt64(versions), using: &random) : 0
            var candidate = entry(sequence, tombstone: tombstone, expiresAt: expiresAt)
            candidate.segmentID = segmentIDs[segment]
            candidate.offset = UInt64(segments[segment].versions.count)
            candidate.recordLength = UInt32(40 + key.count)
            segments[segment].versions.append(
                HintEntry(
                    key: key, metadata: candidate.metadata, isClear: false,
                    offset: candidate.offset, recordLength: candidate.recordLength))
        }
        // The model sees versions in load order: segment by segment.
        for segment in segments {
            for version in segment.versions where !version.isClear {
                loaded.append(
                    (
                        version.key,
                        IndexEntry(
                            segmentID: segment.id, offset: version.offset,
                            recordLength: version.recordLength, metadata: version.metadata)
                    ))
            }
        }
        let clearSequence = UInt64(versions / 10)
        let now = UInt64(versions / 3)
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
        var expectedLiveBytes: [UInt32: Int] = [:]
        for (_, entry) in expected {
            expectedLiveBytes[entry.segmentID, default: 0] += Int(entry.recordLength)
        }
        let (keys, entries, liveBytes) = StorageEngine.resolveLoaded(
            segments, clearSequence: clearSequence, nowMillis: now)
        #expect(keys == expected.map(\.key))
        #expect(entries == expected.map(\.value))
        #expect(liveBytes.map(\.id) == segmentIDs, "one account per loaded segment, in order")
        #expect(
            Dictionary(
                uniqueKeysWithValues: liveBytes.filter { $0.bytes > 0 }.map { ($0.id, $0.bytes) })
                == expectedLiveBytes)
        #expect(!keys.isEmpty && keys.count < winners.count)
    }
}
