import CohortCore
import Testing

@testable import CohortReplication

/// The logical log entry format: what the leader encodes every replica must decode to the same
/// entry, and no input, however damaged, may trap a replica.
@Suite struct LogicalEntryCodecTests {
    /// Every byte value in a key, a value longer than 255 bytes (so that lengths use more than
    /// one byte), an empty value, an expiry, and a delete.
    static let mixedEntry = LogicalEntry(
        flushesAll: false,
        effects: [
            .put(
                key: Array(0...255), value: (0..<300).map { UInt8(truncatingIfNeeded: $0 * 7) },
                valueType: 0, expiresAtMillis: 1_700_000_000_123),
            .put(key: [0], value: [], valueType: 0, expiresAtMillis: 0),
            .delete(key: Array("gone".utf8)),
            .put(
                key: Array("typed".utf8), value: [0xFF, 0x00], valueType: 0xAB,
                expiresAtMillis: .max),
        ])

    @Test(arguments: [
        LogicalEntry(),
        LogicalEntry(flushesAll: true),
        LogicalEntry(flushesAll: true, effects: [.delete(key: [])]),
        mixedEntry,
    ])
    func roundTrip(entry: LogicalEntry) throws {
        let encoded = LogicalEntryCodec.encode(entry)
        #expect(encoded[0] == LogicalEntryCodec.version)
        #expect(encoded[1] == (entry.flushesAll ? 1 : 0))
        let decoded = try #require(LogicalEntryCodec.decode(encoded))
        #expect(decoded == entry)
        #expect(decoded.isEmpty == entry.isEmpty)
    }

    @Test func emptyEntryIsSixBytesAndEmpty() throws {
        let encoded = LogicalEntryCodec.encode(LogicalEntry())
        #expect(encoded == [LogicalEntryCodec.version, 0, 0, 0, 0, 0])
        let decoded = try #require(LogicalEntryCodec.decode(encoded))
        #expect(decoded.isEmpty)
        #expect(!LogicalEntry(flushesAll: true).isEmpty)
        #expect(!LogicalEntry(effects: [.delete(key: [1])]).isEmpty)
    }

    @Test func layoutIsLittleEndianAsDocumented() {
        let encoded = LogicalEntryCodec.encode(
            LogicalEntry(
                flushesAll: true,
                effects: [
                    .put(key: [0xAA], value: [0xBB, 0xCC], valueType: 5, expiresAtMillis: 0x0102),
                    .delete(key: [0xDD]),
                ]))
        #expect(
            encoded == [
                1, 1, 2, 0, 0, 0,
                // put: kind, key length, key, type, expiry, value length, value
                1, 1, 0, 0, 0, 0xAA, 5, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0xBB, 0xCC,
                // delete: kind, key length, key
                2, 1, 0, 0, 0, 0xDD,
            ])
    }

    @Test func everyTruncationIsRejected() {
        for entry in [LogicalEntry(), LogicalEntry(flushesAll: true), Self.mixedEntry] {
            let encoded = LogicalEntryCodec.encode(entry)
            for length in 0..<encoded.count {
                #expect(
                    LogicalEntryCodec.decode(Array(encoded.prefix(length))) == nil,
                    "prefix of \(length) of \(encoded.count) bytes")
            }
        }
    }

    @Test func wrongVersionIsRejected() {
        var encoded = LogicalEntryCodec.encode(Self.mixedEntry)
        for version: UInt8 in [0, 2, 0xFF] {
            encoded[0] = version
            #expect(LogicalEntryCodec.decode(encoded) == nil, "version \(version)")
        }
    }

    @Test func unknownFlagsAreRejected() {
        var encoded = LogicalEntryCodec.encode(LogicalEntry(flushesAll: true))
        for flags: UInt8 in [2, 3, 0x80, 0xFF] {
            encoded[1] = flags
            #expect(LogicalEntryCodec.decode(encoded) == nil, "flags \(flags)")
        }
    }

    @Test func unknownEffectKindIsRejected() {
        // One delete of key [7]: the kind byte is at offset 6.
        var encoded = LogicalEntryCodec.encode(LogicalEntry(effects: [.delete(key: [7])]))
        #expect(LogicalEntryCodec.decode(encoded) != nil)
        for kind: UInt8 in [0, 3, 0xFF] {
            encoded[6] = kind
            #expect(LogicalEntryCodec.decode(encoded) == nil, "kind \(kind)")
        }
    }

    @Test func trailingBytesAreRejected() {
        for entry in [LogicalEntry(), Self.mixedEntry] {
            let encoded = LogicalEntryCodec.encode(entry)
            #expect(LogicalEntryCodec.decode(encoded + [0]) == nil)
            #expect(LogicalEntryCodec.decode(encoded + encoded) == nil)
        }
    }

    @Test func effectCountAboveTheBytesIsRejected() {
        // A count of UInt32.max with a handful of bytes: refused before reserving anything.
        let huge: [UInt8] = [1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 2, 0, 0, 0, 0]
        #expect(LogicalEntryCodec.decode(huge) == nil)
        // A count one above the effects present.
        var encoded = LogicalEntryCodec.encode(Self.mixedEntry)
        encoded[2] = UInt8(Self.mixedEntry.effects.count + 1)
        #expect(LogicalEntryCodec.decode(encoded) == nil)
        // And one below: the last effect becomes trailing bytes.
        encoded[2] = UInt8(Self.mixedEntry.effects.count - 1)
        #expect(LogicalEntryCodec.decode(encoded) == nil)
    }

    @Test func lengthsPastTheEndAreRejected() {
        // A key length that runs past the input.
        var encoded = LogicalEntryCodec.encode(LogicalEntry(effects: [.delete(key: [7])]))
        encoded[7] = 2
        #expect(LogicalEntryCodec.decode(encoded) == nil)
        encoded[7] = 0xFF
        encoded[10] = 0xFF
        #expect(LogicalEntryCodec.decode(encoded) == nil)
    }

    /// Random inputs never trap; anything accepted is canonical (re-encodes to the same bytes).
    @Test func randomBytesNeverTrap() {
        var random = SplitMix64(seed: 0x5EED_0001)
        var accepted = 0
        for _ in 0..<20_000 {
            var input = (0..<Int(random.below(40))).map { _ in
                UInt8(truncatingIfNeeded: random.next())
            }
            // Most purely random inputs fail at the version byte; give half of them a valid
            // header so the effect decoding is exercised too.
            if random.below(2) == 0 && input.count >= 6 {
                input[0] = LogicalEntryCodec.version
                input[1] = UInt8(random.below(2))
                input[2] = UInt8(random.below(4))
                input[3] = 0
                input[4] = 0
                input[5] = 0
            }
            if let entry = LogicalEntryCodec.decode(input) {
                accepted += 1
                #expect(LogicalEntryCodec.encode(entry) == input)
            }
        }
        // The header fix-up makes some inputs well-formed (for example a zero effect count
        // with nothing after it); none accepted would mean decode rejects everything.
        #expect(accepted > 0)
    }

    /// Valid encodings with one byte changed never trap either, and re-encode exactly.
    @Test func mutatedEncodingsNeverTrap() {
        var random = SplitMix64(seed: 0x5EED_0002)
        let encoded = LogicalEntryCodec.encode(Self.mixedEntry)
        var accepted = 0
        for _ in 0..<5_000 {
            var input = encoded
            let position = Int(random.below(UInt64(input.count)))
            input[position] = UInt8(truncatingIfNeeded: random.next())
            if let entry = LogicalEntryCodec.decode(input) {
                accepted += 1
                #expect(LogicalEntryCodec.encode(entry) == input)
            }
        }
        // A changed value byte is still a valid entry: the re-encoding check must have run.
        #expect(accepted > 0)
    }
}
