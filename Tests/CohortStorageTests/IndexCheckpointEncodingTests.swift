import CohortCore
import Testing

@testable import CohortStorage

/// The index checkpoint is encoded a chunk at a time, straight from the tree: whatever the
/// chunk size, the bytes are the same, and they decode to exactly the index's keys and entries.
@Suite struct IndexCheckpointEncodingTests {
    func entry(_ number: Int) -> IndexEntry {
        IndexEntry(
            segmentID: UInt32(number % 3 + 1), offset: UInt64(number) * 97,
            recordLength: UInt32(40 + number % 50),
            metadata: VersionMetadata(
                sequence: UInt64(number) + 1,
                timestamp: HLCTimestamp(physicalMillis: 1_000 + UInt64(number), logical: 7),
                origin: NodeID(UInt64(number % 5)), isTombstone: number % 11 == 0,
                type: .string, expiresAtMillis: number % 4 == 0 ? 9_000 : 0))
    }

    /// Enough keys for a tree of several levels, and one key longer than the smaller chunks.
    func makeIndex() -> OrderedIndex {
        var index = OrderedIndex()
        for number in 0..<3_000 {
            index.insert(Array("key:\(number * 7_919 % 3_001)".utf8), entry(number))
        }
        index.insert([UInt8](repeating: 0x41, count: 300), entry(3_000))
        index.insert([], entry(3_001))
        return index
    }

    let segments = [
        IndexCheckpoint.Segment(
            id: 1, isCompacted: true, bytes: 4_096, liveBytes: 100, sequenceMin: 1,
            sequenceMax: 900, isSealed: true, isQuarantined: false, mayHoldDeletions: false,
            checksum: 0xDEAD_BEEF),
        IndexCheckpoint.Segment(
            id: 3, isCompacted: false, bytes: 512, liveBytes: 512, sequenceMin: nil,
            sequenceMax: nil, isSealed: false, isQuarantined: true, mayHoldDeletions: true,
            checksum: 7),
    ]

    func encode(_ index: OrderedIndex, chunkBytes: Int) throws -> (bytes: [UInt8], writes: Int) {
        var bytes: [UInt8] = []
        var writes = 0
        try IndexCheckpoint.encode(
            lastSequence: 3_002, clock: HLCTimestamp(physicalMillis: 5_000, logical: 3),
            activeID: 3, nextSegmentID: 4, segments: segments, index: index,
            chunkBytes: chunkBytes
        ) { chunk in
            #expect(chunk.count <= max(chunkBytes, 8))
            bytes.append(contentsOf: chunk)
            writes += 1
        }
        return (bytes, writes)
    }

    @Test func everyChunkSizeGivesTheSameBytesAndTheyDecodeToTheIndex() throws {
        let index = makeIndex()
        let whole = try encode(index, chunkBytes: IndexCheckpoint.encodingChunkBytes)
        for chunkBytes in [8, 13, 64, 1_000] {
            let chunked = try encode(index, chunkBytes: chunkBytes)
            // Compared here rather than in the expectation, which would print both files.
            let firstDifference = zip(chunked.bytes, whole.bytes).enumerated()
                .first { $0.element.0 != $0.element.1 }?.offset
            let sameLength = chunked.bytes.count == whole.bytes.count
            #expect(
                sameLength && firstDifference == nil,
                "chunk size \(chunkBytes): \(chunked.bytes.count) against \(whole.bytes.count) bytes, first difference at \(firstDifference.map(String.init) ?? "none")"
            )
            #expect(chunked.writes > whole.writes)
        }
        let decoded = try whole.bytes.withUnsafeBytes { raw in
            try IndexCheckpoint.decode(raw, keyBytesMax: 1 << 20)
        }
        #expect(decoded.lastSequence == 3_002)
        #expect(decoded.clock == HLCTimestamp(physicalMillis: 5_000, logical: 3))
        #expect(decoded.activeID == 3)
        #expect(decoded.nextSegmentID == 4)
        #expect(decoded.segments == segments)
        var iterator = index.makeIterator()
        var expectedKeys: [[UInt8]] = []
        var expectedEntries: [IndexEntry] = []
        while let (key, entry) = iterator.next() {
            expectedKeys.append(key)
            expectedEntries.append(entry)
        }
        #expect(decoded.slots.count == 3_002)
        let keysMatch = decoded.slots.map(\.key) == expectedKeys
        let entriesMatch = decoded.slots.map(\.entry) == expectedEntries
        #expect(keysMatch, "the decoded keys are the index's, in order")
        #expect(entriesMatch, "the decoded entries are the index's, in order")
    }

    @Test func aChangedByteFailsTheChecksum() throws {
        var bytes = try encode(makeIndex(), chunkBytes: 64).bytes
        bytes[bytes.count / 2] ^= 0x10
        #expect(throws: IndexCheckpoint.DecodeError.badChecksum) {
            try bytes.withUnsafeBytes { raw in
                try IndexCheckpoint.decode(raw, keyBytesMax: 1 << 20)
            }
        }
    }

    @Test func aFailedWriteStopsTheEncoding() {
        var writes = 0
        #expect(throws: StorageError.diskFull) {
            try IndexCheckpoint.encode(
                lastSequence: 1, clock: .zero, activeID: 1, nextSegmentID: 2, segments: [],
                index: makeIndex(), chunkBytes: 256
            ) { _ throws(StorageError) in
                writes += 1
                if writes == 3 { throw .diskFull }
            }
        }
        #expect(writes == 3)
    }
}
