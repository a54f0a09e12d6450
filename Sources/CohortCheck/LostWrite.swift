/// An acknowledged write that the committed log does not account for.
public struct LostWrite: Hashable, Sendable, CustomStringConvertible {
    /// Why the write counts as lost.
    public enum Reason: Hashable, Sendable {
        /// No committed write has this key and value.
        case missing
        /// The log applies this write only before `older`, a write to the same key that was
        /// acknowledged before this one was invoked: the stale value overwrote this one.
        case overwrittenByOlderWrite(AcknowledgedWrite)
    }

    /// The acknowledged write that was lost.
    public var write: AcknowledgedWrite
    /// Why it counts as lost.
    public var reason: Reason

    /// Creates a lost-write report.
    public init(write: AcknowledgedWrite, reason: Reason) {
        self.write = write
        self.reason = reason
    }

    /// A readable sentence.
    public var description: String {
        switch reason {
        case .missing:
            return "acknowledged \(write) is not in the committed log"
        case .overwrittenByOlderWrite(let older):
            return "acknowledged \(write) is overwritten in the committed log by \(older), which "
                + "was acknowledged before it was invoked"
        }
    }
}
