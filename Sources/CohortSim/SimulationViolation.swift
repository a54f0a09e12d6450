/// Something a run found wrong. Any violation fails the seed.
public struct SimulationViolation: Hashable, Sendable, CustomStringConvertible {
    /// Which property broke.
    public enum Kind: String, Hashable, Sendable {
        /// A Raft safety property (election safety, log matching, leader completeness, state
        /// machine safety, or a node's own invariants).
        case raftSafety
        /// The client history has no linearization.
        case linearizability
        /// A write acknowledged under `.majority` or `.all` is missing after the run.
        case lostAcknowledgedWrite
        /// After faults healed, no leader committed new writes within the bound.
        case liveness
        /// The state machines of two nodes disagree after applying the same prefix, or a node
        /// cannot restart from its disk.
        case stateMachine
        /// A session read broke read-your-writes or monotonic reads.
        case sessionGuarantee
        /// A bounded-staleness read returned state older than its bound.
        case boundedStaleness
    }

    /// Which property broke.
    public var kind: Kind
    /// Simulated time of detection, in microseconds.
    public var timeMicros: UInt64
    /// What was seen, with the offending state.
    public var message: String

    /// A violation of `kind` found at `timeMicros`.
    public init(kind: Kind, timeMicros: UInt64, message: String) {
        self.kind = kind
        self.timeMicros = timeMicros
        self.message = message
    }

    /// One line: kind, time in milliseconds, message.
    public var description: String {
        "\(kind.rawValue) at \(timeMicros / 1_000)ms: \(message)"
    }
}
