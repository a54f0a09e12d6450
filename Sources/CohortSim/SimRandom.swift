import CohortCore

/// The simulator's only source of randomness. Every decision of a run (swarm parameters,
/// message delays, drops, crashes, client choices) is drawn from one `SimRandom` seeded by the
/// run's seed, so a seed replays exactly.
///
/// The generator is CohortCore's `SplitMix64` (the one Raft uses for election timeouts): a
/// fixed algorithm, so a seed gives the same run on every toolchain. The helpers below are
/// written out here rather than taken from the standard library's `random(in:using:)`, whose
/// algorithm may change between Swift versions.
public struct SimRandom: RandomNumberGenerator, Sendable {
    private var generator: SplitMix64

    /// A generator whose whole output is determined by `seed`.
    public init(seed: UInt64) {
        self.generator = SplitMix64(seed: seed)
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        generator.next()
    }

    /// A uniform value in `0..<bound`, without modulo bias (SplitMix64's Lemire sampler).
    public mutating func below(_ bound: UInt64) -> UInt64 {
        generator.below(bound)
    }

    /// A uniform integer in `range`.
    public mutating func integer(in range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound) + 1
        return range.lowerBound + Int(below(width))
    }

    /// A uniform unsigned integer in `range`.
    public mutating func integer(in range: ClosedRange<UInt64>) -> UInt64 {
        let width = range.upperBound - range.lowerBound
        if width == UInt64.max { return next() }
        return range.lowerBound + below(width + 1)
    }

    /// A uniform `Double` in `[0, 1)`, from the top 53 bits.
    public mutating func unit() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// True with probability `probability` (clamped to [0, 1]).
    public mutating func chance(_ probability: Double) -> Bool {
        if probability <= 0 { return false }
        if probability >= 1 { return true }
        return unit() < probability
    }

    /// A uniform element of a non-empty array.
    public mutating func element<Element>(of elements: [Element]) -> Element {
        precondition(!elements.isEmpty, "SimRandom.element needs a non-empty array")
        return elements[Int(below(UInt64(elements.count)))]
    }

    /// The array in a uniformly random order (Fisher-Yates).
    public mutating func shuffled<Element>(_ elements: [Element]) -> [Element] {
        var result = elements
        var index = result.count - 1
        while index > 0 {
            let other = Int(below(UInt64(index + 1)))
            result.swapAt(index, other)
            index -= 1
        }
        return result
    }

    /// A new generator whose stream is independent of this one's continuation, for a
    /// subsystem whose number of draws must not shift everybody else's.
    public mutating func fork() -> SimRandom {
        SimRandom(seed: next() ^ 0x5851_F42D_4C95_7F2D)
    }
}
