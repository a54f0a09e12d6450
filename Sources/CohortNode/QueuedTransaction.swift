/// A connection's MULTI: the commands queued so far, and whether queuing one failed (an
/// unknown command, a wrong number of arguments, a command Cohort does not run inside a
/// transaction), which makes EXEC answer EXECABORT.
public struct QueuedTransaction: Sendable, Equatable {
    /// The queued commands, each with its arguments, in order.
    public var commands: [[[UInt8]]] = []
    /// Set when a command could not be queued.
    public var failed = false

    public init() {}
}

/// A key a connection WATCHes, with the version it had then: the sequence of its live
/// version (a log index under replication, so comparable on every node), nil when absent.
/// EXEC runs only if every watched key still has that version.
public struct WatchedKey: Sendable, Equatable {
    public var key: [UInt8]
    public var sequence: UInt64?

    public init(key: [UInt8], sequence: UInt64?) {
        self.key = key
        self.sequence = sequence
    }
}
