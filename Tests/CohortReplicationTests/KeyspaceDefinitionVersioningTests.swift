import CohortCore
import Testing

@testable import CohortReplication

/// The catalog's formats across versions: old entries still read, new ones round-trip, and
/// entries from newer nodes are kept and reported instead of stopping the node.
struct KeyspaceDefinitionVersioningTests {
    static let orders = KeyspaceDefinitionTests.orders

    /// `orders` at version 1 as nodes before format versions wrote it (format 0), pinned.
    static let unversionedOrders: [UInt8] = [
        0xC2, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x61, 0x6C, 0x6C, 0x06, 0x00, 0x00,
        0x00, 0x6F, 0x72, 0x64, 0x65, 0x72, 0x73, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
        0x6E, 0x31, 0x02, 0x00, 0x00, 0x00, 0x6E, 0x32, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
        0x00, 0x6E, 0x34, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x6E, 0x33,
    ]

    /// A versioned entry: tag · marker · `format` · name · `body`.
    static func versioned(format: UInt32, name: String, body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [KeyspaceDefinition.tag]
        ByteCoding.append(UInt32.max, to: &out)
        ByteCoding.append(format, to: &out)
        ByteCoding.appendBytes(Array(name.utf8), to: &out)
        return out + body
    }

    /// A format-1 body for `orders` with the given strategy tag and parameters.
    static func formatOneBody(strategyTag: UInt8, parameters: [UInt8] = []) -> [UInt8] {
        var out: [UInt8] = []
        ByteCoding.append(UInt32(0), to: &out)
        ByteCoding.appendBytes(Array("majority".utf8), to: &out)
        out.append(strategyTag)
        ByteCoding.appendBytes(parameters, to: &out)
        for list in [["n1", "n2"], [], []] {
            ByteCoding.append(UInt32(list.count), to: &out)
            for member in list { ByteCoding.appendBytes(Array(member.utf8), to: &out) }
        }
        return out
    }

    @Test func unversionedBytesStillDecode() {
        var expected = Self.orders
        expected.version = 1
        #expect(KeyspaceDefinition.decodeVersioned(Self.unversionedOrders) == .definition(expected))
        #expect(KeyspaceDefinition.decode(Self.unversionedOrders) == expected)
        #expect(expected.strategy == .singleLeader)
        // Re-encoding writes the current format, which reads back the same.
        let reencoded = expected.encoded()
        #expect(reencoded != Self.unversionedOrders)
        #expect(KeyspaceDefinition.decode(reencoded) == expected)
        for length in 0..<Self.unversionedOrders.count {
            #expect(
                KeyspaceDefinition.decodeVersioned(Array(Self.unversionedOrders.prefix(length)))
                    == .malformed)
        }
    }

    @Test func theCurrentFormatRoundTripsWithItsVersionAndStrategy() {
        var definition = Self.orders
        definition.version = 7
        let bytes = definition.encoded()
        #expect(Array(bytes[0..<9]) == [0xC2, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x00, 0x00])
        #expect(KeyspaceDefinition.decodeVersioned(bytes) == .definition(definition))
        #expect(
            KeyspaceDefinition.decodeVersioned(
                Self.versioned(format: 1, name: "orders", body: Self.formatOneBody(strategyTag: 1)))
                == .definition(KeyspaceDefinition(name: "orders", voters: ["n1", "n2"])))
        for length in 0..<bytes.count {
            #expect(KeyspaceDefinition.decodeVersioned(Array(bytes.prefix(length))) == .malformed)
        }
        #expect(KeyspaceDefinition.decodeVersioned(bytes + [0]) == .malformed)
        #expect(KeyspaceDefinition.decodeVersioned([0xC1] + bytes.dropFirst()) == .malformed)
    }

    @Test func aNewerFormatIsUnsupportedWithItsName() {
        let bytes = Self.versioned(format: 99, name: "future", body: [1, 2, 3, 4, 5])
        #expect(
            KeyspaceDefinition.decodeVersioned(bytes)
                == .unsupported(
                    name: "future", formatVersion: 99,
                    reason: "format version 99 is newer than this node reads (1)"))
        #expect(KeyspaceDefinition.decode(bytes) == nil)
        // A newer format need not keep the name where this one has it: still unsupported.
        var nameless: [UInt8] = [KeyspaceDefinition.tag]
        ByteCoding.append(UInt32.max, to: &nameless)
        ByteCoding.append(UInt32(3), to: &nameless)
        nameless += [0xFF, 0xFF, 0xFF, 0xFF, 0x01]
        guard case .unsupported(nil, 3, _) = KeyspaceDefinition.decodeVersioned(nameless) else {
            Issue.record("\(KeyspaceDefinition.decodeVersioned(nameless))")
            return
        }
    }

    @Test func aLeaderlessDefinitionRoundTripsAndNewerParametersAreUnsupported() {
        let parameters = LeaderlessParameters(
            replicas: 5, writeQuorum: 3, readQuorum: 2, sloppy: false, conflicts: .lww)
        let definition = KeyspaceDefinition(
            name: "carts", voters: ["n1", "n2", "n3", "n4", "n5"],
            strategy: .leaderless(parameters))
        #expect(definition.validationError == nil)
        #expect(KeyspaceDefinition.decode(definition.encoded()) == definition)
        #expect(definition.summary.contains("N 5 W 3 R 2 SLOPPY off CONFLICTS lww"))
        // A parameters format this node does not know (byte 0) is a newer node's.
        let newer = Self.versioned(
            format: 1, name: "carts",
            body: Self.formatOneBody(strategyTag: 2, parameters: [2, 3, 2, 2, 1, 0]))
        guard case .unsupported("carts", 1, _) = KeyspaceDefinition.decodeVersioned(newer) else {
            Issue.record("\(KeyspaceDefinition.decodeVersioned(newer))")
            return
        }
        var tooMany = definition
        tooMany.strategy = .leaderless(LeaderlessParameters(replicas: 6))
        #expect(tooMany.validationError?.contains("N 6") == true)
        var withLearner = definition
        withLearner.learners = ["n6"]
        #expect(withLearner.validationError?.contains("nodes only") == true)
    }

    @Test func anUnknownStrategyIsUnsupportedWithItsName() {
        let bytes = Self.versioned(
            format: 1, name: "orders", body: Self.formatOneBody(strategyTag: 9, parameters: [7]))
        #expect(
            KeyspaceDefinition.decodeVersioned(bytes)
                == .unsupported(
                    name: "orders", formatVersion: 1,
                    reason: "replication strategy tag 9 is unknown to this node"))
        // Parameters a known strategy does not have come from a newer node too.
        let extended = Self.versioned(
            format: 1, name: "orders", body: Self.formatOneBody(strategyTag: 1, parameters: [0]))
        guard case .unsupported("orders", 1, _) = KeyspaceDefinition.decodeVersioned(extended)
        else {
            Issue.record("\(KeyspaceDefinition.decodeVersioned(extended))")
            return
        }
        // So does an acknowledgement mode this node does not know.
        var future = Self.formatOneBody(strategyTag: 1)
        future.replaceSubrange(4..<16, with: [5, 0, 0, 0] + Array("quorm".utf8))
        let unknownAck = Self.versioned(format: 1, name: "orders", body: future)
        guard case .unsupported("orders", 1, _) = KeyspaceDefinition.decodeVersioned(unknownAck)
        else {
            Issue.record("\(KeyspaceDefinition.decodeVersioned(unknownAck))")
            return
        }
    }

    @Test func aCatalogKeepsUnsupportedEntriesThroughEncodeAndDecode() throws {
        var catalog = KeyspaceCatalog()
        catalog.add(Self.orders)
        let future = Self.versioned(format: 99, name: "future", body: [1, 2, 3])
        let strange = Self.versioned(
            format: 1, name: "audit", body: Self.formatOneBody(strategyTag: 9))
        let keptFuture = catalog.keep(try #require(UnsupportedKeyspaceEntry(decoding: future)))
        let keptStrange = catalog.keep(try #require(UnsupportedKeyspaceEntry(decoding: strange)))
        #expect(keptFuture && keptStrange)
        let again = catalog.keep(try #require(UnsupportedKeyspaceEntry(decoding: future)))
        #expect(!again)
        #expect(UnsupportedKeyspaceEntry(decoding: Self.orders.encoded()) == nil)
        #expect(catalog.unsupported.map(\.name) == ["audit", "future"])
        #expect(catalog.unsupported.map(\.bytes) == [strange, future])
        #expect(
            catalog.unsupported[1].summary
                == "future unsupported (format 99): format version 99 is newer than this node reads (1)"
        )
        let decoded = try #require(KeyspaceCatalog.decode(catalog.encoded()))
        #expect(decoded == catalog)
        #expect(decoded.definition(named: "orders") == Self.orders)
        #expect(decoded.definition(named: "future") == nil)
        // Re-encoded untouched, in the file and in snapshots.
        #expect(decoded.encoded() == catalog.encoded())
        let state = StateSnapshotCodec.encode([])
        let unwrapped = try #require(
            KeyspaceDefinitionTests.split(catalog.snapshotPrefix() + state))
        #expect(unwrapped.catalog == catalog)
        // A later entry of the same name replaces the earlier.
        let newer = Self.versioned(format: 100, name: "future", body: [])
        let replaced = catalog.keep(try #require(UnsupportedKeyspaceEntry(decoding: newer)))
        #expect(replaced)
        #expect(catalog.unsupported.map(\.bytes) == [strange, newer])
    }

    @Test func aCatalogWrittenBeforeFormatVersionsStillDecodes() throws {
        // Magic · count · the unversioned entry · CRC, as earlier nodes saved it.
        var bytes = Array("CKSC".utf8)
        ByteCoding.append(UInt32(1), to: &bytes)
        ByteCoding.appendBytes(Self.unversionedOrders, to: &bytes)
        ByteCoding.append(CRC32C.checksum(bytes), to: &bytes)
        let catalog = try #require(KeyspaceCatalog.decode(bytes))
        #expect(catalog.definition(named: "orders")?.version == 1)
        #expect(catalog.unsupported.isEmpty)
    }
}
