/// How the simulated network treats a message when no partition cuts its link.
public struct NetworkConditions: Hashable, Sendable {
    /// The shortest one-way delay, in microseconds.
    public var delayMicrosMin: UInt64
    /// The longest one-way delay, in microseconds.
    public var delayMicrosMax: UInt64
    /// Probability that a message is lost.
    public var dropProbability: Double
    /// Probability that a delivered message is delivered a second time.
    public var duplicateProbability: Double
    /// When false, each directed link delivers in send order (like TCP); when true, a message
    /// may overtake an earlier one.
    public var reorders: Bool
    /// Probability that a message takes a long detour (a retransmission, a stalled queue), so
    /// that it arrives long after newer messages: stale messages exercise term checks.
    public var longDelayProbability: Double
    /// The longest such detour, in microseconds.
    public var longDelayMicrosMax: UInt64

    /// Conditions of a network that only delays.
    public init(
        delayMicrosMin: UInt64 = 1_000, delayMicrosMax: UInt64 = 5_000,
        dropProbability: Double = 0, duplicateProbability: Double = 0, reorders: Bool = false,
        longDelayProbability: Double = 0, longDelayMicrosMax: UInt64 = 0
    ) {
        precondition(
            delayMicrosMin <= delayMicrosMax,
            "delay bounds out of order: min \(delayMicrosMin) > max \(delayMicrosMax)")
        self.delayMicrosMin = delayMicrosMin
        self.delayMicrosMax = delayMicrosMax
        self.dropProbability = dropProbability
        self.duplicateProbability = duplicateProbability
        self.reorders = reorders
        self.longDelayProbability = longDelayProbability
        self.longDelayMicrosMax = longDelayMicrosMax
    }
}
