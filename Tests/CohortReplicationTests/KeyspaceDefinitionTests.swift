import CohortCore
import Testing

@testable import CohortReplication

struct KeyspaceDefinitionTests {
    static let orders = KeyspaceDefinition(
        name: "orders", voters: ["n1", "n2"], learners: ["n4"], witnesses: ["n3"],
        ackMode: .all)

    @Test(arguments: AckMode.allCases)
    func roundTrips(ackMode: AckMode) {
        var definition = Self.orders
        definition.ackMode = ackMode
        let bytes = definition.encoded()
        #expect(bytes.first == KeyspaceDefinition.tag)
        #expect(KeyspaceDefinition.decode(bytes) == definition)
        // Never mistaken for the other entry kinds, nor they for it.
        #expect(LogicalEntryCodec.decode(bytes) == nil)
        #expect(MemberEntry.decode(bytes) == nil)
        #expect(KeyspaceDefinition.decode(LogicalEntryCodec.encode(LogicalEntry())) == nil)
        #expect(
            KeyspaceDefinition.decode(
                MemberEntry(name: "n4", host: "h", port: 1, role: .voter).encoded()) == nil)
    }

    @Test func validationNamesTheProblem() {
        func problem(_ definition: KeyspaceDefinition) -> String? { definition.validationError }
        #expect(problem(Self.orders) == nil)
        #expect(problem(KeyspaceDefinition(name: "default", voters: ["n1"])) != nil)
        #expect(problem(KeyspaceDefinition(name: "", voters: ["n1"])) != nil)
        #expect(problem(KeyspaceDefinition(name: "a b", voters: ["n1"])) != nil)
        #expect(
            problem(KeyspaceDefinition(name: String(repeating: "x", count: 65), voters: ["n1"]))
                != nil)
        #expect(problem(KeyspaceDefinition(name: "ok_name-2", voters: ["n1"])) == nil)
        #expect(problem(KeyspaceDefinition(name: "k", voters: [])) != nil)
        #expect(problem(KeyspaceDefinition(name: "k", voters: ["n1", "n1"])) != nil)
        #expect(problem(KeyspaceDefinition(name: "k", voters: ["n1"], learners: ["n1"])) != nil)
        // A witness with a single data voter could only ever elect that voter.
        #expect(problem(KeyspaceDefinition(name: "k", voters: ["n1"], witnesses: ["n2"])) != nil)
        // Decoding is lenient: validation belongs to CREATE, and a newer node may accept what
        // this one refuses, so a well-formed definition decodes even when invalid here.
        let invalid = KeyspaceDefinition(name: "k", voters: [])
        #expect(KeyspaceDefinition.decode(invalid.encoded()) == invalid)
    }

    @Test func groupIDsAreStableAndNeverTheDefaultGroup() {
        #expect(KeyspaceDefinition.groupID(named: "default") == 0)
        #expect(Self.orders.groupID == KeyspaceDefinition.groupID(named: "orders"))
        #expect(Self.orders.groupID != 0)
        // Pinned: every node, of every version, must compute the same id for a name.
        #expect(Self.orders.groupID == 0x0012_5d92_50be_8b4c)
    }

    @Test func malformedInputIsRefused() {
        let bytes = Self.orders.encoded()
        for length in 0..<bytes.count {
            #expect(KeyspaceDefinition.decode(Array(bytes.prefix(length))) == nil)
        }
        #expect(KeyspaceDefinition.decode(bytes + [0]) == nil)
        var random = SplitMix64(seed: 11)
        for _ in 0..<5_000 {
            var noise = [KeyspaceDefinition.tag]
            for _ in 0..<random.below(60) { noise.append(UInt8(truncatingIfNeeded: random.next())) }
            _ = KeyspaceDefinition.decode(noise)
        }
    }

    @Test func catalogKeepsTheFirstDefinitionOfAName() {
        var catalog = KeyspaceCatalog()
        let added = catalog.add(Self.orders)
        #expect(added)
        let addedAgain = catalog.add(KeyspaceDefinition(name: "orders", voters: ["n9"]))
        #expect(!addedAgain)
        #expect(catalog.definition(named: "orders") == Self.orders)
        let addedAudit = catalog.add(KeyspaceDefinition(name: "audit", voters: ["n1"]))
        #expect(addedAudit)
        #expect(catalog.sorted.map(\.name) == ["audit", "orders"])
        #expect(KeyspaceCatalog.decode(catalog.encoded()) == catalog)
        #expect(KeyspaceCatalog.decode(KeyspaceCatalog().encoded()) == KeyspaceCatalog())
    }

    @Test func changesApplyInVersionOrderAndSnapshotsAdoptTheNewest() {
        var catalog = KeyspaceCatalog()
        catalog.add(Self.orders)
        var next = Self.orders
        next.version = 1
        next.voters.append("n5")
        var skipped = next
        skipped.version = 3
        let skippedAdded = catalog.add(skipped)
        #expect(!skippedAdded, "a change must follow the version it was computed from")
        let nextAdded = catalog.add(next)
        #expect(nextAdded)
        let replayed = catalog.add(next)
        #expect(!replayed)
        #expect(catalog.definition(named: "orders")?.voters == ["n1", "n2", "n5"])
        // A snapshot carries the latest version only: adopt it over anything older.
        var fresh = KeyspaceCatalog()
        let adopted = fresh.adopt(skipped)
        #expect(adopted)
        let older = fresh.adopt(next)
        #expect(!older)
        #expect(fresh.definition(named: "orders")?.version == 3)
        #expect(KeyspaceCatalog.decode(fresh.encoded()) == fresh)
        // A new name must start at version 0 when it comes from the log.
        var empty = KeyspaceCatalog()
        let late = empty.add(next)
        #expect(!late)
    }

    @Test func aDamagedCatalogIsRefused() {
        var catalog = KeyspaceCatalog()
        catalog.add(Self.orders)
        let bytes = catalog.encoded()
        for position in bytes.indices {
            var damaged = bytes
            damaged[position] ^= 0x40
            #expect(KeyspaceCatalog.decode(damaged) == nil, "flip at \(position)")
        }
        #expect(KeyspaceCatalog.decode(Array(bytes.dropLast())) == nil)
    }

    @Test func snapshotsCarryTheCatalogAndStayReadableWithout() throws {
        var catalog = KeyspaceCatalog()
        catalog.add(Self.orders)
        let state = StateSnapshotCodec.encode([
            .put(key: Array("k".utf8), value: Array("v".utf8), valueType: 0, expiresAtMillis: 0)
        ])
        let wrapped = try #require(Self.split(catalog.snapshotPrefix() + state))
        #expect(wrapped.catalog == catalog)
        #expect(wrapped.state == state)
        // A bare state snapshot (a keyspace's group, or no keyspaces yet) has no catalog.
        let bare = try #require(Self.split(state))
        #expect(bare.catalog == KeyspaceCatalog())
        #expect(bare.state == state)
        var damaged = catalog.snapshotPrefix() + state
        damaged[8] ^= 1
        #expect(Self.split(damaged) == nil)
    }

    /// A default-group snapshot's catalog and the state snapshot after it; nil when damaged.
    static func split(_ bytes: [UInt8]) -> (catalog: KeyspaceCatalog, state: [UInt8])? {
        var source = SnapshotByteSource(bytes, pieceBytes: 3)
        guard let catalog = (try? KeyspaceCatalog.readSnapshotPrefix(&source)) ?? nil else {
            return nil
        }
        return (catalog, Array(bytes[source.consumed...]))
    }
}
