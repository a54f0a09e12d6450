/// What a log entry carries.
public enum RaftEntryKind: Hashable, Sendable {
    /// Application data, opaque to Raft.
    case normal([UInt8])
    /// The empty entry a new leader appends so that entries of earlier terms commit
    /// (Raft §5.4.2, §8).
    case noop
    /// The group's membership from this entry on.
    case membership(RaftMembership)
    /// A normal entry whose data the leader left out because the receiver is a witness.
    case normalDataOmitted
}
