import CohortCore
import CohortRaft

/// The single-leader group behind the strategy seam: its peer messages are Raft's.
extension LeaderGroup: ReplicationGroup {
    public typealias Message = RaftMessage
}

extension LeaderGroupAction: ReplicationGroupAction {
    public var answeredRequest: RequestID? {
        switch self {
        case .reply(let id, _, _), .readGate(let id, _): id
        default: nil
        }
    }

    public var stopReply: RESPValue? {
        if case .stopped(_, let reply) = self { reply } else { nil }
    }
}
