/// The 64-bit FNV-1a hash: small, stable across processes and versions, and the same on every
/// node, which is all a name-derived identifier (node ids, keyspace group ids) or a trace
/// fingerprint needs. Not for hash tables facing untrusted input.
public enum FNV1a {
    /// The hash of no bytes.
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    @usableFromInline static let prime: UInt64 = 0x100_0000_01b3

    /// `hash` with `byte` folded in.
    @inline(__always)
    public static func combine(_ hash: UInt64, _ byte: UInt8) -> UInt64 {
        (hash ^ UInt64(byte)) &* prime
    }

    /// The hash of `bytes`.
    public static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        bytes.reduce(offsetBasis, combine)
    }

    /// The hash of `bytes`, over their contiguous storage: the generic form above walks an
    /// iterator through value witnesses across module boundaries (15% of a leaderless node's
    /// time, digesting states, before this overload).
    @inlinable
    public static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBufferPointer { buffer in
            var hash = offsetBasis
            for byte in buffer { hash = (hash ^ UInt64(byte)) &* prime }
            return hash
        }
    }
}
