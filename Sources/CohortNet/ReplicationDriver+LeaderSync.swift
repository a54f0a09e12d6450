import CohortCore
import CohortStorage

extension ReplicationDriver {
    /// Starts the fsync of the entries a leader wrote (`leaderUnsyncedThrough`) on
    /// `syncQueue`, unless one runs already: then the next starts when it ends, covering
    /// everything written meanwhile, so the disk flushes back to back while the raft loop goes
    /// on. When it ends the node may count and apply those entries (Raft thesis §10.2.1: the
    /// leader's own write proceeds in parallel with replication; a majority of followers alone
    /// may commit an entry, but no node applies what its own log may not hold).
    func startLeaderSync() {
        guard !isLeaderSyncRunning, !isStopped, let target = leaderUnsyncedThrough else { return }
        leaderUnsyncedThrough = nil
        let sync: RaftLogSync
        do {
            guard let begun = try store.beginSync() else {
                // A synchronous sync already covered them.
                node.entriesBecameDurable(through: target.index, term: target.term)
                schedulePump()
                return
            }
            sync = begun
        } catch {
            stop(because: "the Raft log write failed", error: "\(error)")
            return
        }
        isLeaderSyncRunning = true
        let loop = self.loop
        syncQueue.async { [self] in
            let failure = sync.run()
            loop.execute { [self] in
                leaderSyncFinished(sync, failure: failure, target: target)
            }
        }
    }

    private func leaderSyncFinished(
        _ sync: RaftLogSync, failure: StorageError?, target: (index: LogIndex, term: Term)
    ) {
        isLeaderSyncRunning = false
        guard !isStopped else { return }
        do {
            try store.finishSync(sync, error: failure)
        } catch {
            // As in `pump`: a log that cannot be made durable must not acknowledge anything.
            stop(because: "the Raft log write failed", error: "\(error)")
            return
        }
        node.entriesBecameDurable(through: target.index, term: target.term)
        acknowledgeLeaderDurable()
        startLeaderSync()
        schedulePump()
    }
}
