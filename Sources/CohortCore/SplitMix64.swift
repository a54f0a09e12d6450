/// A small seeded pseudo-random generator (SplitMix64, Steele, Lea and Flood, 2014) for pure
/// state machines that need randomness, such as Raft's randomized election timeouts. Its
/// algorithm is fixed here, so a seed gives the same sequence on every toolchain.
public struct SplitMix64: RandomNumberGenerator, Hashable, Sendable {
    /// The generator's whole state; the next output is a function of it alone.
    public private(set) var state: UInt64

    /// A generator whose whole output is determined by `seed`.
    public init(seed: UInt64) {
        self.state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A uniform value in `0..<bound`, by Lemire's multiply-shift with rejection (no modulo
    /// bias). Written out rather than taken from the standard library, whose algorithm may
    /// change between Swift versions.
    public mutating func below(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0, "SplitMix64.below needs a positive bound, got \(bound)")
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = next().multipliedFullWidth(by: bound)
            }
        }
        return product.high
    }

    /// A uniform value in the closed range `range`.
    public mutating func value(in range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound) + 1
        return range.lowerBound + Int(below(width))
    }
}
