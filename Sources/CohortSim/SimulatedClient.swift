import CohortCheck
import CohortCore

/// A simulated client: one request outstanding at a time, sent to the node it believes leads,
/// following redirects, giving up after a timeout.
struct SimulatedClient: Sendable {
    /// The request in flight.
    struct Outstanding: Sendable {
        var request: KeyValueRequest
        var operation: OperationID
        var redirects: Int
        /// Simulated time of the invocation, for the liveness check.
        var invokedMicros: UInt64
    }

    /// The client's id in requests (distinct from node ids).
    let clientID: UInt64
    /// Its current process in the history; replaced after an indeterminate outcome.
    var process: ProcessID
    /// The last sequence number used.
    var sequence: UInt64 = 0
    /// The node it sends to next.
    var target: Int
    /// The request in flight, if any.
    var outstanding: Outstanding?
    /// Values written so far, to make every written value unique.
    var valuesWritten = 0
    /// The last value seen per key (read or written; `.some(nil)`: seen absent).
    var lastSeen: [Int: Int?] = [:]

    /// A client with the given ids, targeting node `target` first.
    init(clientID: UInt64, process: ProcessID, target: Int) {
        self.clientID = clientID
        self.process = process
        self.target = target
    }
}
