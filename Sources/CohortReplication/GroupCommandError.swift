/// A cluster command (COHORT NODE, COHORT KEYSPACE) a group refuses, with the error reply.
struct GroupCommandError: Error, Sendable {
    /// The reply, Redis style (`ERR ...`).
    var message: String

    init(_ message: String) { self.message = message }
}
