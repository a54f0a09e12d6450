/// A leader's view of one follower, from which INFO replication and the metrics are both
/// rendered.
public struct FollowerStatus: Sendable {
    public var name: String
    /// voter, learner or witness.
    public var kind: String
    public var isOnline: Bool
    public var matchIndex: UInt64
    /// Entries the leader has that the follower does not.
    public var lagEntries: UInt64
    /// Time since the follower last held everything committed; nil until it first has.
    public var lagMillis: UInt64?
    /// An install in progress: the snapshot's index, bytes acknowledged, total bytes.
    public var snapshotTransfer: (index: UInt64, acknowledged: UInt64, total: Int)?

    /// The INFO replication value (Redis's `slaveN:` line shape).
    public var infoValue: String {
        var text =
            "name=\(name),kind=\(kind),state=\(isOnline ? "online" : "unreachable"),"
            + "match_index=\(matchIndex),lag_entries=\(lagEntries),"
            + "lag_ms=\(lagMillis.map(String.init) ?? "unknown")"
        if let transfer = snapshotTransfer {
            text +=
                ",snapshot_index=\(transfer.index),snapshot_bytes_acknowledged=\(transfer.acknowledged)"
                + ",snapshot_bytes=\(transfer.total)"
        }
        return text
    }
}
