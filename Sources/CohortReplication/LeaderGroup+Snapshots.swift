import CohortCore
import CohortRaft

extension LeaderGroup {
    /// Asks for a snapshot of the state machine once the log is long enough (or, `urgent`, at
    /// once: a node is being added and is seeded from it). Only while the state machine holds
    /// exactly the applied index's state: right after a restart it may be ahead of the
    /// persisted commit index, and a snapshot labelled with the lower index would then carry
    /// later writes.
    ///
    /// The host takes the point-in-time view when it runs the action (nothing applies in
    /// between) and encodes it, then ``snapshotEncoded(_:at:)`` compacts the Raft core in
    /// memory and asks for the file (``LeaderGroupAction/saveSnapshot(_:urgent:)``), and
    /// ``snapshotSaved(at:failure:)`` ends it. A failed write leaves the previous snapshot and
    /// the whole log on disk, which is consistent; the next snapshot tries again.
    mutating func maybeCompactLog(urgent: Bool = false) {
        let applied = raft.appliedIndex
        guard applied == appliedIndex, !isSnapshotInProgress else { return }
        guard
            urgent && applied > raft.snapshotIndex
                || applied.rawValue >= raft.snapshotIndex.rawValue + configuration.snapshotEntries
        else { return }
        isSnapshotInProgress = true
        // The default group's state machine also holds the keyspace catalog.
        actions.append(
            .takeSnapshot(
                at: applied, catalog: configuration.groupID.isDefault ? catalog : KeyspaceCatalog(),
                urgent: urgent))
    }

    /// The host encoded the snapshot it was asked for at `index`.
    public mutating func snapshotEncoded(_ data: [UInt8], at index: LogIndex, urgent: Bool = false)
    {
        guard !isStopped, index > raft.snapshotIndex else {
            // A newer snapshot (from the leader) arrived meanwhile.
            isSnapshotInProgress = false
            return
        }
        raft.compact(upTo: index, snapshotData: data)
        guard let snapshot = raft.snapshot else {
            preconditionFailure("\(nodeID): compacted through \(index) but holds no snapshot")
        }
        actions.append(.saveSnapshot(snapshot, urgent: urgent))
    }

    /// The host saved the snapshot at `index` and compacted the durable log (or failed to).
    public mutating func snapshotSaved(at index: LogIndex, bytes: Int, failure: String?) {
        isSnapshotInProgress = false
        guard !isStopped else { return }
        if let failure {
            log(.error, "saving a snapshot failed", ["error": failure])
        } else {
            log(.info, "snapshot taken, log compacted", ["index": "\(index)", "bytes": "\(bytes)"])
        }
    }
}
