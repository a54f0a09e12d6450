import CohortCore

/// A 64-bit FNV-1a hash folded over every event a run processes. Two runs of one seed must end
/// with the same value; a difference pinpoints nondeterminism (a clock, an unseeded random
/// number, a Dictionary's iteration order) leaking into the simulation.
public struct TraceHasher: Sendable {
    /// The hash of everything folded so far.
    public private(set) var value: UInt64 = FNV1a.offsetBasis

    /// A hasher in its initial state.
    public init() {}

    /// Folds one byte.
    public mutating func combine(byte: UInt8) {
        value = FNV1a.combine(value, byte)
    }

    /// Folds the eight little-endian bytes of `word`.
    public mutating func combine(_ word: UInt64) {
        var remaining = word
        for _ in 0..<8 {
            combine(byte: UInt8(truncatingIfNeeded: remaining))
            remaining >>= 8
        }
    }

    /// Folds an integer as 64 bits.
    public mutating func combine(_ integer: Int) {
        combine(UInt64(bitPattern: Int64(integer)))
    }

    /// Folds the UTF-8 bytes of `text` and its length.
    public mutating func combine(_ text: String) {
        for byte in text.utf8 { combine(byte: byte) }
        combine(text.utf8.count)
    }
}
