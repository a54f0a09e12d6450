import CohortCore
import Testing

@testable import CohortReplication

/// The state machine snapshot format: a snapshot installs exactly the keys it was made from,
/// and a damaged one never decodes.
@Suite struct StateSnapshotCodecTests {
    /// `count` puts in key order with assorted values, types and expiries.
    static func puts(_ count: Int, seed: UInt64 = 1) -> [KeyEffect] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { index in
            let value = (0..<Int(random.below(24))).map { _ in
                UInt8(truncatingIfNeeded: random.next())
            }
            return .put(
                key: Array("key:\(index)".utf8) + [0, 0xFF], value: value,
                valueType: UInt8(index % 3),
                expiresAtMillis: index % 4 == 0 ? 0 : 1_000_000 + UInt64(index))
        }
    }

    @Test(arguments: [0, 1, 2, 257])
    func roundTrip(count: Int) throws {
        let entries = Self.puts(count)
        let encoded = StateSnapshotCodec.encode(entries)
        #expect(Array(encoded.prefix(4)) == Array("CSNP".utf8))
        #expect(encoded[4] == StateSnapshotCodec.version)
        #expect(try #require(StateSnapshotCodec.decode(encoded)) == entries)
    }

    @Test func emptySnapshotLayout() {
        let encoded = StateSnapshotCodec.encode([])
        // Magic, version 2, end tag, count u64, CRC-32C u32 of the 14 bytes before it.
        #expect(encoded.count == 18)
        #expect(Array(encoded[4..<14]) == [2, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        let crc = CRC32C.checksum(encoded[0..<14])
        #expect(
            Array(encoded[14...]) == [
                UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8),
                UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 24),
            ])
        #expect(StateSnapshotCodec.decode(encoded) == [])
    }

    /// Version 1 (the count first, no tags), which older nodes wrote, is still read.
    @Test func versionOneIsStillRead() throws {
        let entries = Self.puts(3)
        var body = Array("CSNP".utf8) + [1]
        ByteCoding.append(UInt64(entries.count), to: &body)
        for case .put(let key, let value, let valueType, let expiresAtMillis) in entries {
            ByteCoding.appendBytes(key, to: &body)
            body.append(valueType)
            ByteCoding.append(expiresAtMillis, to: &body)
            ByteCoding.appendBytes(value, to: &body)
        }
        ByteCoding.append(CRC32C.checksum(body), to: &body)
        #expect(try #require(StateSnapshotCodec.decode(body)) == entries)
        var damaged = body
        damaged[damaged.count - 5] ^= 1
        #expect(StateSnapshotCodec.decode(damaged) == nil)
    }

    /// Streamed both ways: the encoder hands its sink pieces of about a megabyte, the decoder
    /// reads pieces of any size (down to one byte) across record boundaries.
    @Test func streamsInPiecesOfAnySize() throws {
        var pieces: [[UInt8]] = []
        var encoder = StateSnapshotEncoder { pieces.append($0) }
        let value = [UInt8](repeating: 7, count: 100_000)
        for index in 0..<30 {
            encoder.add(
                key: Array("k\(index)".utf8), value: value, valueType: 0, expiresAtMillis: 9)
        }
        encoder.finish()
        #expect(pieces.count >= 3, "\(pieces.map(\.count))")
        let whole = pieces.flatMap { $0 }
        for pieceBytes in [1, 7, 4_096, 1 << 20] {
            var decoder = StateSnapshotDecoder(SnapshotByteSource(whole, pieceBytes: pieceBytes))
            var count = 0
            while let entry = try decoder.next() {
                #expect(
                    entry
                        == .put(
                            key: Array("k\(count)".utf8), value: value, valueType: 0,
                            expiresAtMillis: 9))
                count += 1
            }
            #expect(count == 30, "pieces of \(pieceBytes)")
            #expect(try decoder.next() == nil)
        }
        // The catalog prefix reads off the same stream, leaving it at the state.
        var catalog = KeyspaceCatalog()
        catalog.add(KeyspaceDefinitionTests.orders)
        var source = SnapshotByteSource(catalog.snapshotPrefix() + whole, pieceBytes: 5)
        #expect(try KeyspaceCatalog.readSnapshotPrefix(&source) == catalog)
        var decoder = StateSnapshotDecoder(source)
        var count = 0
        while try decoder.next() != nil { count += 1 }
        #expect(count == 30)
        var bare = SnapshotByteSource(whole, pieceBytes: 3)
        #expect(try KeyspaceCatalog.readSnapshotPrefix(&bare) == KeyspaceCatalog())
        #expect(bare.consumed == 0)
    }

    @Test func deletesAreSkipped() throws {
        let entries = Self.puts(3)
        let mixed: [KeyEffect] = [
            .delete(key: Array("before".utf8)), entries[0], .delete(key: []), entries[1],
            entries[2], .delete(key: Array("after".utf8)),
        ]
        let encoded = StateSnapshotCodec.encode(mixed)
        #expect(encoded == StateSnapshotCodec.encode(entries))
        #expect(try #require(StateSnapshotCodec.decode(encoded)) == entries)
        // Only deletes: an empty snapshot, with a count of 0.
        let onlyDeletes = StateSnapshotCodec.encode([KeyEffect.delete(key: [1])])
        #expect(StateSnapshotCodec.decode(onlyDeletes) == [])
    }

    @Test func encodesAnyKeySequence() throws {
        // A lazy sequence, not an array: `encode` takes `some Sequence`.
        let entries = Self.puts(5)
        let encoded = StateSnapshotCodec.encode(entries.lazy.map { $0 })
        #expect(try #require(StateSnapshotCodec.decode(encoded)) == entries)
    }

    @Test func everySingleFlippedByteIsRejected() {
        for count in [0, 1, 3] {
            let encoded = StateSnapshotCodec.encode(Self.puts(count))
            for position in encoded.indices {
                for mask: UInt8 in [0x01, 0x80, 0xFF] {
                    var damaged = encoded
                    damaged[position] ^= mask
                    #expect(
                        StateSnapshotCodec.decode(damaged) == nil,
                        "byte \(position) of \(encoded.count) ^ \(mask)")
                }
            }
        }
    }

    @Test func everyTruncationIsRejected() {
        for count in [0, 1, 3] {
            let encoded = StateSnapshotCodec.encode(Self.puts(count))
            for length in 0..<encoded.count {
                #expect(
                    StateSnapshotCodec.decode(Array(encoded.prefix(length))) == nil,
                    "prefix of \(length) of \(encoded.count) bytes")
            }
        }
    }

    /// A body with a valid checksum but an inconsistent count, tag or version is still
    /// refused: the checksum is not the only guard.
    @Test func wellChecksummedButMalformedIsRejected() {
        func resealed(_ body: [UInt8]) -> [UInt8] {
            let crc = CRC32C.checksum(body)
            return body + (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) }
        }
        let encoded = StateSnapshotCodec.encode(Self.puts(2))
        let body = Array(encoded.dropLast(4))
        #expect(StateSnapshotCodec.decode(resealed(body)) == Self.puts(2))

        var wrongVersion = body
        wrongVersion[4] = 3
        #expect(StateSnapshotCodec.decode(resealed(wrongVersion)) == nil)

        var wrongMagic = body
        wrongMagic[0] = UInt8(ascii: "X")
        #expect(StateSnapshotCodec.decode(resealed(wrongMagic)) == nil)

        var wrongTag = body
        wrongTag[5] = 2
        #expect(StateSnapshotCodec.decode(resealed(wrongTag)) == nil)

        for count: UInt8 in [1, 3, 0xFF] {
            var wrongCount = body
            wrongCount[body.count - 8] = count
            #expect(StateSnapshotCodec.decode(resealed(wrongCount)) == nil, "count \(count)")
        }
        #expect(StateSnapshotCodec.decode(resealed(body + [0])) == nil, "trailing byte")
    }

    /// Random bytes (some of them correctly checksummed) never trap; anything accepted is
    /// canonical.
    @Test func randomBytesNeverTrap() {
        var random = SplitMix64(seed: 0x5EED_0003)
        var accepted = 0
        for _ in 0..<5_000 {
            var body = Array("CSNP".utf8) + [StateSnapshotCodec.version]
            if random.below(2) == 0 {
                // A put tag, so that an entry is actually parsed.
                body.append(1)
            }
            body += (0..<Int(random.below(48))).map { _ in
                UInt8(truncatingIfNeeded: random.next())
            }
            if random.below(3) == 0 {
                // An end with a small count, so that some inputs are well formed.
                body += [0, UInt8(random.below(2)), 0, 0, 0, 0, 0, 0, 0]
            }
            let crc = CRC32C.checksum(body)
            let input = body + (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) }
            if let entries = StateSnapshotCodec.decode(input) {
                accepted += 1
                #expect(StateSnapshotCodec.encode(entries) == input)
            }
        }
        // Some inputs (an empty snapshot, say) are well formed: the canonical check ran.
        #expect(accepted > 0)
    }
}
