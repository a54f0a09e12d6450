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
    /// between), streams it into the snapshot file and puts it in place; then
    /// ``snapshotSaved(_:failure:)`` compacts the Raft core, which sends it to lagging
    /// followers chunk by chunk from that file. A failed write leaves the previous snapshot and
    /// the whole log on disk, which is consistent; the next snapshot tries again.
    mutating func maybeCompactLog(urgent: Bool = false) {
        let applied = raft.appliedIndex
        guard applied == appliedIndex, !isSnapshotInProgress else { return }
        let logBytesDue = max(configuration.snapshotLogBytesMin, lastSnapshotBytes)
        guard
            urgent && applied > raft.snapshotIndex
                || applied.rawValue >= raft.snapshotIndex.rawValue + configuration.snapshotEntries
                || appliedBytesSinceSnapshot >= logBytesDue && applied > raft.snapshotIndex
        else { return }
        guard let metadata = raft.snapshotMetadata(through: applied) else { return }
        isSnapshotInProgress = true
        appliedBytesSinceSnapshot = 0
        // The default group's state machine also holds the keyspace catalog.
        actions.append(
            .takeSnapshot(
                metadata,
                catalog: configuration.groupID.isDefault ? catalog : KeyspaceCatalog(),
                urgent: urgent))
    }

    /// The host wrote `snapshot` and put it in place in the Raft log store, compacting the
    /// durable log through its index (or failed to): the Raft core drops the entries it covers
    /// and sends it to followers behind them.
    public mutating func snapshotSaved(_ snapshot: RaftSnapshot, failure: String?) {
        isSnapshotInProgress = false
        guard !isStopped else { return }
        let index = snapshot.metadata.index
        if let failure {
            log(.error, "saving a snapshot failed", ["error": failure])
            return
        }
        // A newer snapshot (from the leader) may have arrived meanwhile.
        guard index > raft.snapshotIndex else { return }
        raft.compact(upTo: index, snapshotBytes: snapshot.size)
        lastSnapshotBytes = snapshot.size
        log(
            .info, "snapshot taken, log compacted",
            ["index": "\(index)", "bytes": "\(snapshot.size)"])
    }
}
