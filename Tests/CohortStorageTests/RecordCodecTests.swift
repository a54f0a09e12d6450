import CohortCore
import Testing

@testable import CohortStorage

@Suite struct RecordCodecTests {
    let metadata = VersionMetadata(
        sequence: 7, timestamp: HLCTimestamp(physicalMillis: 123, logical: 4), origin: NodeID(3),
        isTombstone: false, type: .string, expiresAtMillis: 99)

    func encoded(key: [UInt8], value: [UInt8], groupRecords: UInt32 = 1) -> [UInt8] {
        var buffer: [UInt8] = []
        RecordCodec.encode(
            key: key, value: value, metadata: metadata, groupRecords: groupRecords, into: &buffer)
        return buffer
    }

    @Test func roundTrip() throws {
        let record = encoded(key: bytes("key"), value: bytes("value"), groupRecords: 2)
        #expect(record.count == RecordCodec.headerBytes + 8)
        let decoded = try RecordCodec.decode(record, keyBytesMax: 16, valueBytesMax: 16)
        #expect(decoded.metadata == metadata)
        #expect(decoded.groupRecords == 2)
        #expect(Array(record[decoded.keyRange]) == bytes("key"))
        #expect(Array(record[decoded.valueRange]) == bytes("value"))
    }

    @Test func everyPrefixIsTruncated() {
        let record = encoded(key: bytes("key"), value: bytes("value"))
        for length in 0..<record.count {
            #expect(throws: RecordDecodeError.truncated) {
                try RecordCodec.decode(
                    Array(record[..<length]), keyBytesMax: 16, valueBytesMax: 16)
            }
        }
    }

    @Test func everySingleBitFlipIsRejected() {
        let record = encoded(key: bytes("key"), value: bytes("value"))
        for position in 0..<record.count {
            for bit in 0..<8 {
                var damaged = record
                damaged[position] ^= UInt8(1 << bit)
                #expect(throws: RecordDecodeError.self) {
                    try RecordCodec.decode(damaged, keyBytesMax: 1 << 20, valueBytesMax: 1 << 20)
                }
            }
        }
    }

    @Test func lengthsAboveLimitsAreBadLength() {
        let record = encoded(key: bytes("key"), value: bytes("value"))
        #expect(throws: RecordDecodeError.badLength) {
            try RecordCodec.decode(record, keyBytesMax: 2, valueBytesMax: 16)
        }
    }

    /// Property: arbitrary bytes, and valid records with random damage, never trap.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func decodersNeverTrapOnRandomBytes(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let valid = encoded(key: bytes("k"), value: bytes("some value"))
        var decodedCount = 0
        for round in 0..<3_000 {
            var input: [UInt8]
            if round % 2 == 0 {
                input = random.bytes(count: Int.random(in: 0..<200, using: &random))
                if !input.isEmpty && round % 4 == 0 { input[0] = RecordCodec.magic }
            } else {
                input = valid + valid
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    input[Int.random(in: 0..<input.count, using: &random)] =
                        UInt8.random(in: 0...255, using: &random)
                }
            }
            if (try? RecordCodec.decode(input, keyBytesMax: 64, valueBytesMax: 64)) != nil {
                decodedCount += 1
            }
            let scan = input.withUnsafeBytes {
                SegmentScanner.scan($0, keyBytesMax: 64, valueBytesMax: 64)
            }
            #expect(scan.validEnd <= input.count)
            _ = input.withUnsafeBytes { try? HintCodec.decode($0, keyBytesMax: 64) }
        }
        // Damage in the second copy leaves the first decodable.
        #expect(decodedCount > 0)
    }

    @Test func hintRoundTripAndRejection() throws {
        let entries = [
            HintEntry(
                key: bytes("a"), metadata: metadata, isClear: false, offset: 0, recordLength: 60),
            HintEntry(key: [], metadata: metadata, isClear: true, offset: 60, recordLength: 56),
        ]
        let encoded = HintCodec.encode(segmentID: 9, entries: entries)
        let decoded = try encoded.withUnsafeBytes { try HintCodec.decode($0, keyBytesMax: 8) }
        #expect(decoded.segmentID == 9)
        #expect(decoded.entries == entries)
        for position in 0..<encoded.count {
            var damaged = encoded
            damaged[position] ^= 0x40
            #expect(throws: HintDecodeError.self) {
                try damaged.withUnsafeBytes { try HintCodec.decode($0, keyBytesMax: 8) }
            }
        }
    }

    @Test func scannerAppliesGroupsAllOrNothing() {
        var buffer: [UInt8] = []
        let first = metadata
        var second = metadata
        second.sequence = 8
        RecordCodec.encode(
            key: bytes("a"), value: [1], metadata: first, groupRecords: 1, into: &buffer)
        let groupStart = buffer.count
        RecordCodec.encode(
            key: bytes("b"), value: [2], metadata: second, groupRecords: 2, into: &buffer)
        let whole = buffer
        RecordCodec.encode(
            key: bytes("c"), value: [3], metadata: second, groupRecords: 2, into: &buffer)
        let incomplete = whole.withUnsafeBytes {
            SegmentScanner.scan($0, keyBytesMax: 8, valueBytesMax: 8)
        }
        #expect(incomplete.records.map(\.key) == [bytes("a")])
        #expect(incomplete.tail?.offset == groupStart)
        #expect(incomplete.validEnd == groupStart)
        let complete = buffer.withUnsafeBytes {
            SegmentScanner.scan($0, keyBytesMax: 8, valueBytesMax: 8)
        }
        #expect(complete.records.map(\.key) == [bytes("a"), bytes("b"), bytes("c")])
        #expect(complete.tail == nil && complete.corruptions.isEmpty)
    }
}
