import CohortCore
import Testing

@testable import CohortReplication

/// Dotted version vectors and sibling sets: the shopping cart of the replication texts, and
/// the merge rules that keep every write nobody superseded.
@Suite struct SiblingSetTests {
    let a = NodeID(1)
    let b = NodeID(2)
    let stamp = HLCTimestamp(physicalMillis: 1, logical: 0)

    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func versionVectorCoversDescendsAndMerges() {
        let left = VersionVector([a: 2, b: 1])
        let right = VersionVector([a: 1, b: 3])
        #expect(left.covers(Dot(replica: a, counter: 2)))
        #expect(!left.covers(Dot(replica: a, counter: 3)))
        #expect(!left.covers(Dot(replica: NodeID(9), counter: 1)))
        #expect(!left.descends(from: right) && !right.descends(from: left))
        let merged = left.merged(with: right)
        #expect(merged == VersionVector([a: 2, b: 3]))
        #expect(merged.descends(from: left) && merged.descends(from: right))
        #expect(VersionVector([a: 0]) == .empty)
        #expect(merged.adding(Dot(replica: NodeID(3), counter: 1)).counter(of: NodeID(3)) == 1)
    }

    @Test func contextStringRoundTripsAndRejectsJunk() {
        let vector = VersionVector([a: 7, b: 1 << 40])
        #expect(VersionVector(contextString: vector.contextString) == vector)
        #expect(VersionVector(contextString: VersionVector.empty.contextString) == .empty)
        #expect(VersionVector(contextString: "zz") == nil)
        #expect(VersionVector(contextString: "0") == nil)
        #expect(VersionVector(contextString: vector.contextString + "00") == nil)
    }

    /// The texts' shopping cart: two clients write the same cart concurrently, each from what
    /// it last read; the store keeps both as siblings, and a write with the context of a read
    /// that returned both merges them.
    @Test func shoppingCartKeepsConcurrentWritesAsSiblingsUntilAMergingWrite() {
        var cart = SiblingSet.empty
        let first = cart.write(bytes("milk"), context: .empty, replica: a, stamp: stamp)
        let afterFirst = cart.context
        // Client 2 never read: its write is concurrent with milk.
        let second = cart.write(bytes("eggs"), context: .empty, replica: a, stamp: stamp)
        #expect(cart.values == [bytes("milk"), bytes("eggs")])
        // Client 1 writes from what it read after its own write: supersedes milk only.
        let third = cart.write(bytes("milk,flour"), context: afterFirst, replica: a, stamp: stamp)
        #expect(cart.values == [bytes("eggs"), bytes("milk,flour")])
        #expect(!cart.holds(first) && cart.holds(second) && cart.holds(third))
        // A client read both siblings and writes the merged cart with that context.
        let merged = cart.write(
            bytes("eggs,milk,flour"), context: cart.context, replica: a, stamp: stamp)
        #expect(cart.values == [bytes("eggs,milk,flour")])
        #expect(cart.siblings.map(\.dot) == [merged])
        cart.checkInvariants()
    }

    @Test func mergeKeepsWhatTheOtherSideDidNotSupersede() {
        var left = SiblingSet.empty
        let base = left.write(bytes("v1"), context: .empty, replica: a, stamp: stamp)
        var right = left
        // Left supersedes v1; right writes concurrently without context.
        let newer = left.write(bytes("v2"), context: left.context, replica: a, stamp: stamp)
        let concurrent = right.write(bytes("x"), context: .empty, replica: b, stamp: stamp)
        let merged = left.merged(with: right)
        #expect(!merged.holds(base))
        #expect(merged.holds(newer) && merged.holds(concurrent))
        #expect(merged == right.merged(with: left))
        #expect(merged.merged(with: left) == merged)
        #expect(merged.merged(with: merged) == merged)
        merged.checkInvariants()
    }

    @Test func tombstoneIsASiblingThatReadsAsDeleted() {
        var state = SiblingSet.empty
        _ = state.write(bytes("v"), context: .empty, replica: a, stamp: stamp)
        _ = state.write(nil, context: state.context, replica: a, stamp: stamp)
        #expect(state.isDeleted && !state.isEmpty)
        #expect(state.values.isEmpty)
        #expect(state.siblings.count == 1 && state.siblings[0].isTombstone)
    }

    @Test func keepingNewestDropsAndReportsTheOthers() {
        var state = SiblingSet.empty
        _ = state.write(bytes("old"), context: .empty, replica: a, stamp: stamp)
        let later = HLCTimestamp(physicalMillis: 5, logical: 0)
        let newest = state.write(bytes("new"), context: .empty, replica: b, stamp: later)
        var dropped: [Sibling] = []
        let resolved = state.keepingNewest(dropped: &dropped)
        #expect(resolved.siblings.map(\.dot) == [newest])
        #expect(dropped.map(\.value) == [bytes("old")])
        #expect(resolved.clock == state.clock)
    }

    @Test func encodingRoundTripsAndRejectsEveryTruncation() {
        var state = SiblingSet.empty
        _ = state.write(bytes("v1"), context: .empty, replica: a, stamp: stamp)
        _ = state.write(nil, context: .empty, replica: b, stamp: stamp)
        let encoded = state.encoded
        #expect(SiblingSet(encoded: encoded) == state)
        for length in 0..<encoded.count {
            #expect(SiblingSet(encoded: Array(encoded[..<length])) == nil)
        }
        // A sibling outside the clock is refused.
        var forged = VersionVector.empty.encoded()
        ByteCoding.append(UInt32(1), to: &forged)
        ByteCoding.append(UInt64(1), to: &forged)
        ByteCoding.append(UInt64(1), to: &forged)
        ByteCoding.append(UInt64(0), to: &forged)
        ByteCoding.append(UInt32(0), to: &forged)
        forged.append(0)
        #expect(SiblingSet(encoded: forged) == nil)
    }
}

extension VersionVector {
    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }
}
