import CohortCore
import CohortReplication

extension CommandExecutor: WriteEvaluator {
    /// Runs a write command for a replication leader over the overlay (see ``Speculation``):
    /// the reply and the writes it made, none of them committed.
    public func evaluateWrite(
        _ arguments: [[UInt8]], overlay: [[UInt8]: KeyWrite], overlayHidesEngine: Bool,
        nowMillis: UInt64
    ) -> WriteEvaluation {
        let speculation = Speculation(overlay: overlay, overlayHidesEngine: overlayHidesEngine)
        var session = ClientSession(id: 0, address: "leader", authenticated: true)
        let outcome = execute(
            arguments, session: &session, nowMillis: nowMillis, speculation: speculation)
        return WriteEvaluation(
            reply: outcome.reply, writes: speculation.writes, flushesAll: speculation.flushesAll)
    }
}
