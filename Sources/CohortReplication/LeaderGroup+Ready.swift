import CohortCore
import CohortRaft

extension LeaderGroup {
    /// Takes the Raft core's readies while the disk allows: each one's actions, up to the disk
    /// write it needs; the rest follows in ``diskCompleted(_:failure:)``.
    mutating func processReadies() {
        var iterations = 0
        while pendingReady == nil, raft.hasReady, !isStopped {
            iterations += 1
            precondition(iterations < 100_000, "\(nodeID) produced 100000 readies in a row")
            let ready = raft.ready()
            let termOrVoteChanged =
                ready.hardState.map {
                    $0.term != syncedHardState.term || $0.votedFor != syncedHardState.votedFor
                } ?? false
            // A leader in a steady term sends before its own fsync, so the followers' fsyncs
            // overlap the leader's (Raft thesis §10.2.1): its messages carry entries, commit
            // indexes and read confirmations, none of which promise anything about the leader's
            // disk, and the leader counts itself toward a commit only once `advance` says its
            // entries are durable. Anything else (votes, acknowledgements, a new term) waits.
            let sendsEarly = raft.isLeader && !termOrVoteChanged
            if sendsEarly && !ready.messages.isEmpty { actions.append(.send(ready.messages)) }
            // A steady leader's committed entries are already durable here, and a read
            // confirmation does not depend on the new entries: answer them before this
            // ready's fsync, so the replies of one batch do not wait for the next batch's
            // disk write.
            let appliesEarly = sendsEarly && ready.snapshot == nil
            if appliesEarly {
                apply(ready.committedEntries)
                for readState in ready.readStates { readIndexAnswered(readState) }
                if isStopped { return }
            }
            // A steady leader's new entries need no fsync before anything here: its messages
            // are out, and the node neither counts nor applies them until told they are
            // durable. Their fsync runs in the background (`startLeaderSync`).
            let defersSync = appliesEarly && !ready.entriesToAppend.isEmpty
            // Entries, snapshots, terms and votes must be durable before any message that
            // depends on them goes out. A ready that only moves the commit index needs no
            // fsync of its own: a lost commit record only makes a restart re-learn the commit
            // index from the leader. A node that stopped leading while its entries' fsync was
            // deferred syncs before it answers anyone.
            let syncs =
                !defersSync
                && (!ready.entriesToAppend.isEmpty || ready.snapshot != nil || termOrVoteChanged
                    || (!sendsEarly && (leaderUnsyncedThrough != nil || backgroundSync != nil)))
            let pending = PendingReady(
                id: DiskOperationID(nextDiskOperation), ready: ready, sendsEarly: sendsEarly,
                appliesEarly: appliesEarly, defersSync: defersSync, syncs: syncs)
            nextDiskOperation += 1
            if ready.needsPersistence || syncs {
                pendingReady = pending
                actions.append(.persist(pending.id, ready, syncs: syncs))
                return
            }
            finish(pending)
        }
        if pendingReady == nil { afterReadies() }
    }

    /// The host finished a `persist`; `failure` says why it failed, if it did. When the ready
    /// carried a received snapshot with data, `snapshotCatalog` is the catalog its data starts
    /// with (empty when none), which the host read from the persisted file.
    public mutating func diskCompleted(
        _ id: DiskOperationID, failure: String?, snapshotCatalog: KeyspaceCatalog? = nil
    ) {
        guard !isStopped else { return }
        guard let pending = pendingReady, pending.id == id else {
            preconditionFailure("\(nodeID): completion of \(id), which is not outstanding")
        }
        pendingReady = nil
        if let failure {
            // A log that cannot be made durable cannot vote or acknowledge: stop rather than
            // risk acknowledging what a crash would lose (fsyncgate).
            return stop(because: "the Raft log write failed: \(failure)")
        }
        if pending.syncs, let hardState = pending.ready.hardState { syncedHardState = hardState }
        if let snapshot = pending.ready.snapshot, snapshot.size > 0, snapshotCatalog == nil {
            preconditionFailure("\(nodeID): a received snapshot was persisted without its catalog")
        }
        receivedSnapshotCatalog = snapshotCatalog ?? KeyspaceCatalog()
        finish(pending)
    }

    /// The rest of a ready once its disk write (if any) is done.
    mutating func finish(_ pending: PendingReady) {
        let ready = pending.ready
        if !pending.sendsEarly && !ready.messages.isEmpty {
            // Acknowledgements and votes leave before this node applies entries.
            actions.append(.send(ready.messages))
        }
        if !pending.appliesEarly {
            if let snapshot = ready.snapshot {
                installSnapshot(snapshot, catalog: receivedSnapshotCatalog)
            }
            apply(ready.committedEntries)
            for readState in ready.readStates { readIndexAnswered(readState) }
            if isStopped { return }
        }
        if let softState = ready.softState { roleChanged(softState) }
        raft.advance(ready, entriesDurable: !pending.defersSync)
        if pending.defersSync {
            let last = ready.entriesToAppend[ready.entriesToAppend.count - 1]
            leaderUnsyncedThrough = (last.index, last.term)
        } else if pending.syncs, let unsynced = leaderUnsyncedThrough {
            // This ready's sync covered the deferred entries too.
            leaderUnsyncedThrough = nil
            raft.entriesBecameDurable(through: unsynced.index, term: unsynced.term)
        }
        acknowledgeLeaderDurable()
    }

    /// After the readies: the background fsync, acknowledgements that depend on followers,
    /// staleness and snapshots.
    mutating func afterReadies() {
        startLeaderSync()
        acknowledgeAllReplicated()
        answerReplicaWaits()
        coverLeaderContacts()
        maybeCompactLog()
    }

    /// Starts the fsync of the entries a steady leader wrote (`leaderUnsyncedThrough`) in the
    /// background, unless one runs already: then the next starts when it ends, covering
    /// everything written meanwhile, so the disk flushes back to back while the group goes
    /// on. When it ends the node may count and apply those entries (Raft thesis §10.2.1: the
    /// leader's own write proceeds in parallel with replication; a majority of followers alone
    /// may commit an entry, but no node applies what its own log may not hold).
    mutating func startLeaderSync() {
        guard backgroundSync == nil, !isStopped, let target = leaderUnsyncedThrough else { return }
        leaderUnsyncedThrough = nil
        let id = DiskOperationID(nextDiskOperation)
        nextDiskOperation += 1
        backgroundSync = (id, target.index, target.term)
        actions.append(.syncInBackground(id))
    }

    /// A background fsync ended; `failure` says why it failed, if it did.
    public mutating func backgroundSyncCompleted(_ id: DiskOperationID, failure: String?) {
        guard !isStopped else { return }
        guard let running = backgroundSync, running.id == id else {
            preconditionFailure("\(nodeID): completion of \(id), which is not running")
        }
        backgroundSync = nil
        if let failure {
            // As for `persist`: a log that cannot be made durable must not acknowledge anything.
            return stop(because: "the Raft log write failed: \(failure)")
        }
        raft.entriesBecameDurable(through: running.through, term: running.term)
        acknowledgeLeaderDurable()
        startLeaderSync()
    }
}
