import CohortCore

/// What the network shell must do with a command's result. The reply may only be sent once the
/// storage engine has taken `awaitedSequence` to its `acknowledgementPoint`: under `fsync batch`
/// a write is acknowledged only after the fsync that covers it, and a read never shows a client
/// data that a crash could still take back; with deferred appends the same holds for a crash
/// of the process, the records being written before the reply. Otherwise 0.
public struct CommandOutcome: Sendable {
    public var reply: RESPValue
    /// The storage sequence that must reach the engine's acknowledgement point (durable, or
    /// written) before `reply` is sent; 0 means none.
    public var awaitedSequence: UInt64
    /// Close the connection after sending the reply (QUIT).
    public var closeAfterReply: Bool

    public init(_ reply: RESPValue, awaitedSequence: UInt64 = 0, closeAfterReply: Bool = false) {
        self.reply = reply
        self.awaitedSequence = awaitedSequence
        self.closeAfterReply = closeAfterReply
    }

    static let ok = CommandOutcome(.simpleString("OK"))
}
