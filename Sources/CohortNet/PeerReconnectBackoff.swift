import CohortCore

/// Delays between attempts to reach a peer: exponential from a minimum to a maximum, with
/// "equal jitter" (half the delay fixed, half random) from a seeded generator, so nodes that
/// lost the same peer spread their redials and a test can reproduce them.
struct PeerReconnectBackoff {
    let delayMillisMin: Int64
    let delayMillisMax: Int64
    private var random: SplitMix64
    /// Failed attempts since the last success.
    private(set) var attempts = 0

    init(delayMillisMin: Int64, delayMillisMax: Int64, seed: UInt64) {
        precondition(
            delayMillisMin >= 1 && delayMillisMin <= delayMillisMax,
            "backoff delays \(delayMillisMin)...\(delayMillisMax)")
        self.delayMillisMin = delayMillisMin
        self.delayMillisMax = delayMillisMax
        self.random = SplitMix64(seed: seed)
    }

    /// The delay before the next attempt, in `delayMillisMin / 2 ... delayMillisMax`.
    mutating func nextDelayMillis() -> Int64 {
        let doublings = min(attempts, 32)
        attempts += 1
        let ceiling =
            delayMillisMin > (delayMillisMax >> Int64(doublings))
            ? delayMillisMax : min(delayMillisMax, delayMillisMin << Int64(doublings))
        let half = ceiling / 2
        return ceiling - half + Int64(random.below(UInt64(half) + 1))
    }

    /// A connection succeeded: the next failure starts from the minimum again.
    mutating func reset() {
        attempts = 0
    }
}
