import CohortCore

/// The answer to a ReadIndex request: a linearizable read issued with `requestID` may be
/// served from the state machine once it has applied `index`.
public struct RaftReadState: Hashable, Sendable {
    /// The caller's id for the read.
    public var requestID: UInt64
    /// The commit index the read must wait for.
    public var index: LogIndex

    /// Creates a read state.
    public init(requestID: UInt64, index: LogIndex) {
        self.requestID = requestID
        self.index = index
    }
}
