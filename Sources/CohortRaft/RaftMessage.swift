import CohortCore

/// A message between two nodes of one Raft group. The driver delivers it with
/// ``RaftNode/receive(_:)``; it may be lost, duplicated, delayed or reordered.
public struct RaftMessage: Hashable, Sendable, CustomStringConvertible {
    /// The sender.
    public var from: NodeID
    /// The receiver.
    public var to: NodeID
    /// The sender's term, except for pre-vote requests and granted pre-vote responses, which
    /// carry the term the candidate would campaign in (Raft thesis §9.6).
    public var term: Term
    /// What the message says.
    public var body: RaftMessageBody

    /// Creates a message.
    public init(from: NodeID, to: NodeID, term: Term, body: RaftMessageBody) {
        self.from = from
        self.to = to
        self.term = term
        self.body = body
    }

    /// A short form such as `n1->n2 t3 heartbeatRequest(...)`.
    public var description: String { "\(from)->\(to) \(term) \(body)" }
}
