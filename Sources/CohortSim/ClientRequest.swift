import CohortCore

/// A client's request as it travels to a node.
struct ClientRequest: Hashable, Sendable {
    /// The client's index (0-based) in the simulation.
    var client: Int
    /// The request, with the client's identity and sequence number.
    var request: KeyValueRequest
}
