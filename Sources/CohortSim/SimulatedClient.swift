import CohortCheck
import CohortCore
import CohortReplication

/// A simulated Redis client: one request outstanding at a time, sent as RESP to a node it
/// picked, giving up after a timeout. Its connection state (token, consistency, ack mode) is
/// its session, carried to whichever node it talks to (COHORT SESSION would do the same).
struct SimulatedClient: Sendable {
    /// What the request in flight is, for the checks.
    enum Request: Sendable {
        case write(key: [UInt8], value: [UInt8])
        case read(key: [UInt8], consistency: ReadConsistency)
    }

    /// The request in flight.
    struct Outstanding: Sendable {
        var request: Request
        var sequence: UInt64
        /// Its operation in the linearizability history (writes and linearizable reads).
        var operation: OperationID?
        /// Simulated time of the invocation, for the liveness check.
        var invokedMicros: UInt64
    }

    /// Its current process in the history; replaced after an indeterminate outcome.
    var process: ProcessID
    /// The last sequence number used.
    var sequence: UInt64 = 0
    /// The node it sends to.
    var target: Int
    /// The request in flight, if any.
    var outstanding: Outstanding?
    /// Values written so far, to make every written value unique.
    var valuesWritten = 0
    /// The session token: the highest log index it wrote or observed.
    var token: UInt64 = 0
    /// The keyspace the client's session uses for its whole life (nil: `default`).
    var keyspace: String?
    /// A client that only reads with bounded staleness: it stays on its node while its reads
    /// succeed, so a node cut off from its leader keeps being asked (the check of the bound
    /// needs a reader that does not move away on a failed write).
    var readsStaleOnly = false

    init(process: ProcessID, target: Int) {
        self.process = process
        self.target = target
    }
}

/// A session or bounded-staleness read as the session checks see it.
struct SessionRead: Sendable {
    var client: Int
    var key: [UInt8]
    var value: [UInt8]?
    /// Simulated time of the invocation and the reply.
    var invokedMicros: UInt64
    var completedMicros: UInt64
    var consistency: ReadConsistency
}
