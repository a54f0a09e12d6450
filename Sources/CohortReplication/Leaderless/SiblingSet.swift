import CohortCore

/// A leaderless key's state on one replica: a causal clock and the concurrent versions
/// (siblings) that no write has superseded yet (dotted version vectors with one clock per
/// object, as in Riak 2.0's DVV).
///
/// Invariants (``checkInvariants()``): siblings are sorted by dot, their dots are distinct, and
/// the clock covers every sibling's dot. A sibling is superseded exactly when a later state's
/// clock covers its dot and that state no longer holds it; so two replicas' states merge
/// without losing a write neither saw superseded (``merged(with:)``), and siblings remain only
/// for writes that were truly concurrent: no write's context covered another's dot.
public struct SiblingSet: Hashable, Sendable, CustomStringConvertible {
    /// Every write in this state's causal past.
    public private(set) var clock: VersionVector
    /// The writes not superseded, sorted by dot.
    public private(set) var siblings: [Sibling]

    /// A key never written.
    public static let empty = SiblingSet(clock: .empty, siblings: [])

    init(clock: VersionVector, siblings: [Sibling]) {
        self.clock = clock
        self.siblings = siblings
    }

    /// Whether nothing was ever written (no clock at all).
    public var isEmpty: Bool { clock.isEmpty }

    /// The values of the siblings that are not tombstones, in dot order.
    public var values: [[UInt8]] { siblings.compactMap(\.value) }

    /// Whether a read finds no value: nothing written, or only tombstones left.
    public var isDeleted: Bool { siblings.allSatisfy(\.isTombstone) }

    /// The context a client takes from a read, to send with its next write of the key.
    public var context: VersionVector { clock }

    /// Whether `dot`'s write is one of the current siblings.
    public func holds(_ dot: Dot) -> Bool {
        siblings.contains { $0.dot == dot }
    }

    /// Applies a write coordinated by `dot`'s replica: the siblings `context` covers are
    /// superseded, and the new value (nil: a tombstone) becomes a sibling with `dot`, which
    /// must be newer than any of that replica's dots this state or the context has seen (see
    /// ``nextCounter(for:context:)``).
    public mutating func write(
        _ value: [UInt8]?, context: VersionVector, dot: Dot, stamp: HLCTimestamp
    ) {
        precondition(dot.counter >= nextCounter(for: dot.replica, context: context))
        siblings.removeAll { context.covers($0.dot) }
        siblings.append(Sibling(dot: dot, stamp: stamp, value: value))
        siblings.sort { $0.dot < $1.dot }
        clock = clock.merged(with: context).adding(dot)
    }

    /// The lowest counter a new dot of `replica` may have on this state with `context`.
    public func nextCounter(for replica: NodeID, context: VersionVector) -> UInt64 {
        max(clock.counter(of: replica), context.counter(of: replica)) + 1
    }

    /// Applies a write with the next dot this state allows for `replica`, and returns it
    /// (tests and single-state uses; a group draws dots from its node-wide counter).
    @discardableResult
    public mutating func write(
        _ value: [UInt8]?, context: VersionVector, replica: NodeID, stamp: HLCTimestamp
    ) -> Dot {
        let dot = Dot(replica: replica, counter: nextCounter(for: replica, context: context))
        write(value, context: context, dot: dot, stamp: stamp)
        return dot
    }

    /// A state that remembers `clock` and holds no sibling: what a replica keeps of a key whose
    /// tombstone it collected, so that older copies arriving later stay superseded.
    static func grave(_ clock: VersionVector) -> SiblingSet {
        SiblingSet(clock: clock, siblings: [])
    }

    /// The state that holds what both hold: a sibling survives unless the other state's clock
    /// covers it and the other state dropped it (a write there superseded it).
    public func merged(with other: SiblingSet) -> SiblingSet {
        if other.isEmpty || self == other { return self }
        if isEmpty { return other }
        var result: [Sibling] = []
        result.reserveCapacity(siblings.count + other.siblings.count)
        var left = 0
        var right = 0
        while left < siblings.count || right < other.siblings.count {
            if right == other.siblings.count
                || (left < siblings.count && siblings[left].dot < other.siblings[right].dot)
            {
                let sibling = siblings[left]
                if !other.clock.covers(sibling.dot) { result.append(sibling) }
                left += 1
            } else if left == siblings.count || other.siblings[right].dot < siblings[left].dot {
                let sibling = other.siblings[right]
                if !clock.covers(sibling.dot) { result.append(sibling) }
                right += 1
            } else {
                result.append(siblings[left])
                left += 1
                right += 1
            }
        }
        return SiblingSet(clock: clock.merged(with: other.clock), siblings: result)
    }

    /// This state with only its newest sibling (highest stamp, then highest dot): how an `lww`
    /// keyspace resolves, and what the `lwwWithoutSiblings` broken variant does silently.
    /// `dropped` receives the siblings resolved away.
    public func keepingNewest(dropped: inout [Sibling]) -> SiblingSet {
        guard siblings.count > 1,
            let newest = siblings.max(by: { ($0.stamp, $0.dot) < ($1.stamp, $1.dot) })
        else { return self }
        dropped.append(contentsOf: siblings.filter { $0.dot != newest.dot })
        return SiblingSet(clock: clock, siblings: [newest])
    }

    /// Traps when an invariant is broken (tests and the simulator call it).
    public func checkInvariants() {
        for (index, sibling) in siblings.enumerated() {
            precondition(clock.covers(sibling.dot), "clock \(clock) misses sibling \(sibling.dot)")
            if index > 0 {
                precondition(siblings[index - 1].dot < sibling.dot, "siblings out of order")
            }
        }
    }

    public var description: String {
        "\(clock){" + siblings.map(\.description).joined(separator: ", ") + "}"
    }

    // MARK: Bytes

    /// Siblings most a state holds on the wire; more is refused as corrupt. (The keyspace's
    /// sibling limit, far lower, refuses client writes long before.)
    public static let siblingsMax = 4_096

    /// The clock, a u32 count, then per sibling: replica and counter (u64), stamp (u64 and
    /// u32), a presence byte (0: tombstone, 1: value) and the value with a u32 length.
    public func encode(into out: inout [UInt8]) {
        clock.encode(into: &out)
        ByteCoding.append(UInt32(siblings.count), to: &out)
        for sibling in siblings {
            ByteCoding.append(sibling.dot.replica.rawValue, to: &out)
            ByteCoding.append(sibling.dot.counter, to: &out)
            ByteCoding.append(sibling.stamp.physicalMillis, to: &out)
            ByteCoding.append(sibling.stamp.logical, to: &out)
            if let value = sibling.value {
                out.append(1)
                ByteCoding.appendBytes(value, to: &out)
            } else {
                out.append(0)
            }
        }
    }

    /// The state's bytes.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }

    /// The state `reader` holds next, or nil when the bytes do not form a valid one (short,
    /// siblings unsorted or outside the clock).
    static func decode(from reader: inout ByteCoding.Reader) -> SiblingSet? {
        guard let clock = VersionVector.decode(from: &reader), let count = reader.uint32(),
            Int(count) <= siblingsMax
        else { return nil }
        var siblings: [Sibling] = []
        for _ in 0..<count {
            guard let replica = reader.uint64(), let counter = reader.uint64(), counter > 0,
                let physical = reader.uint64(), let logical = reader.uint32(),
                let presence = reader.byte(), presence <= 1
            else { return nil }
            var value: [UInt8]?
            if presence == 1 {
                guard let bytes = reader.lengthPrefixed() else { return nil }
                value = bytes
            }
            let dot = Dot(replica: NodeID(replica), counter: counter)
            guard clock.covers(dot), siblings.last.map({ $0.dot < dot }) ?? true else {
                return nil
            }
            siblings.append(
                Sibling(
                    dot: dot, stamp: HLCTimestamp(physicalMillis: physical, logical: logical),
                    value: value))
        }
        return SiblingSet(clock: clock, siblings: siblings)
    }

    /// The state `bytes` hold whole, or nil.
    public init?(encoded bytes: [UInt8]) {
        var reader = ByteCoding.Reader(bytes)
        guard let set = SiblingSet.decode(from: &reader), reader.remaining == 0 else {
            return nil
        }
        self = set
    }
}
