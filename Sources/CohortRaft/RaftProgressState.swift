/// How the leader replicates to one follower (the flow control of etcd's raft).
public enum RaftProgressState: Hashable, Sendable {
    /// The leader does not know where the follower's log matches; it sends one AppendEntries
    /// per heartbeat interval and backs off on rejection.
    case probe
    /// The follower's log matches; the leader streams entries optimistically, with at most
    /// ``RaftConfig/inflightMessagesMax`` requests unacknowledged.
    case replicate
    /// The follower needs entries the leader compacted; it receives a snapshot.
    case snapshot(RaftSnapshotTransfer)
}
