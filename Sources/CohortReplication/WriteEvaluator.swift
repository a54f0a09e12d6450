import CohortCore

/// Runs a write command for a replication leader over the applied state plus the writes it has
/// proposed but not applied yet (the overlay), and returns the reply with the key-level writes
/// the command made, without committing them: the leader replicates them as a log entry.
///
/// Implemented by the command layer (CohortNode). Deterministic: the same applied state,
/// overlay, arguments and `nowMillis` give the same result, in production and in simulation.
public protocol WriteEvaluator: AnyObject, Sendable {
    /// Evaluates `arguments`. `overlayHidesEngine`: a FLUSHALL is in flight, so keys the
    /// overlay does not name are absent.
    func evaluateWrite(
        _ arguments: [[UInt8]], overlay: [[UInt8]: KeyWrite], overlayHidesEngine: Bool,
        nowMillis: UInt64
    ) -> WriteEvaluation
}

/// What a write command did, as a ``WriteEvaluator`` reports it.
public struct WriteEvaluation: Sendable {
    /// The reply the client gets once the write is acknowledged.
    public var reply: RESPValue
    /// The new state of every key the command wrote.
    public var writes: [[UInt8]: KeyWrite]
    /// The command deletes every key first (FLUSHDB, FLUSHALL).
    public var flushesAll: Bool

    /// A result.
    public init(reply: RESPValue, writes: [[UInt8]: KeyWrite], flushesAll: Bool) {
        self.reply = reply
        self.writes = writes
        self.flushesAll = flushesAll
    }
}
