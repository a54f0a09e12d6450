import CohortCore

/// A replica's hash tree of one ring partition, for anti-entropy: 256 leaves, each the
/// combination of its keys' (key, state digest) hashes, under 16 interior nodes of 16 leaves
/// each, under the root. Combining is XOR of well-mixed 64-bit hashes, so a write updates its
/// leaf, its interior node and the root in O(1) (``update(key:from:to:)``), and two replicas
/// holding the same states have the same tree whatever order they wrote them in.
///
/// An exchange compares the 16 interior hashes, then the leaves under the interior nodes that
/// differ, then the keys' digests in the leaves that differ: its bytes grow with the
/// differences, not with the partition's keys. (XOR combining is not collision-resistant
/// against an adversary; replicas are not adversaries, and a 64-bit accidental collision is
/// as rare as any digest's.)
public struct MerkleTree: Hashable, Sendable {
    public static let leafCount = 256
    public static let fanOut = 16

    /// The leaves' hashes.
    public private(set) var leaves: [UInt64]
    /// The interior nodes' hashes (interior `i` covers leaves `16 i ..< 16 i + 16`).
    public private(set) var interior: [UInt64]

    public init() {
        leaves = Array(repeating: 0, count: Self.leafCount)
        interior = Array(repeating: 0, count: Self.leafCount / Self.fanOut)
    }

    /// The root hash: zero for an empty partition.
    public var root: UInt64 { interior.reduce(0, ^) }

    /// The leaf `key` belongs to (bits of its hash above the partition's).
    public static func leaf(of key: [UInt8]) -> Int {
        Int((FNV1a.hash(key) >> 8) & UInt64(leafCount - 1))
    }

    /// The hash one key's state adds to its leaf.
    static func contribution(key: [UInt8], digest: UInt64) -> UInt64 {
        mix(FNV1a.hash(key) ^ mix(digest))
    }

    /// SplitMix64's finaliser: spreads every input bit over the output.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `key`'s state digest changed from `old` to `new` (nil: absent).
    public mutating func update(key: [UInt8], from old: UInt64?, to new: UInt64?) {
        guard old != new else { return }
        var delta: UInt64 = 0
        if let old { delta ^= Self.contribution(key: key, digest: old) }
        if let new { delta ^= Self.contribution(key: key, digest: new) }
        let leaf = Self.leaf(of: key)
        leaves[leaf] ^= delta
        interior[leaf / Self.fanOut] ^= delta
    }

    /// The leaves under interior node `index`.
    public func leaves(under index: Int) -> ArraySlice<UInt64> {
        leaves[(index * Self.fanOut)..<((index + 1) * Self.fanOut)]
    }
}
