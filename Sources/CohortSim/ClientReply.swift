import CohortCore

/// A node's answer to a client request.
enum ClientReply: Hashable, Sendable {
    /// The state machine's response: the request took effect (or, for a read, was served).
    case response(KeyValueResponse)
    /// The node is not the leader; try `leader` (nil: unknown).
    case redirect(leader: NodeID?)
    /// The leader refused the request before appending it: it never takes effect.
    case refused
}
