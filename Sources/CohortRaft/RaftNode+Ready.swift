import CohortCore

extension RaftNode {
    /// Whether ``ready()`` has something for the driver. False while a ready is outstanding
    /// (taken but not yet advanced).
    public var hasReady: Bool {
        guard !readyOutstanding else { return false }
        return appendBroadcastPending || commitBroadcastPending || readRoundPending
            || hardState != emittedHardState || log.unemittedFrom <= log.lastIndex
            || snapshotToPersist != nil || !snapshotChunksToPersist.isEmpty
            || !outboundMessages.isEmpty || !outboundReadStates.isEmpty
            || softState != emittedSoftState || log.applyingThrough < min(log.committed, log.stable)
    }

    /// Takes everything the driver must do next; see ``RaftReady`` for the order. Traps if the
    /// previous ready was not advanced.
    public mutating func ready() -> RaftReady {
        precondition(
            !readyOutstanding, "\(id): ready() called before advance() of the previous ready")
        flushAppends()
        if readRoundPending {
            readRoundPending = false
            withLeaderState { node, state in node.confirmReadsWithNewRound(state: &state) }
        }
        var ready = RaftReady()
        let currentHardState = hardState
        if currentHardState != emittedHardState {
            var persisted = currentHardState
            if config.faults.contains(.voteNotPersisted) { persisted.votedFor = nil }
            ready.hardState = persisted
            emittedHardState = currentHardState
        }
        if log.unemittedFrom <= log.lastIndex {
            ready.entriesToAppend = log.entries(
                from: log.unemittedFrom, through: log.lastIndex, countMax: Int.max,
                bytesMax: Int.max)
            log.unemittedFrom = log.lastIndex.next
        }
        ready.snapshotChunks = snapshotChunksToPersist
        snapshotChunksToPersist = []
        ready.snapshot = snapshotToPersist
        snapshotToPersist = nil
        ready.messages = outboundMessages
        outboundMessages = []
        let applyLimit = min(log.committed, log.stable)
        if log.applyingThrough < applyLimit {
            ready.committedEntries = log.entries(
                from: log.applyingThrough.next, through: applyLimit,
                countMax: config.committedEntriesPerReadyMax, bytesMax: Int.max)
            if let last = ready.committedEntries.last { log.applyingThrough = last.index }
        }
        ready.readStates = outboundReadStates
        outboundReadStates = []
        let currentSoftState = softState
        if currentSoftState != emittedSoftState {
            ready.softState = currentSoftState
            emittedSoftState = currentSoftState
        }
        readyOutstanding = true
        return ready
    }

    /// Tells the node that the driver persisted `ready`'s state, sent its messages, restored
    /// its snapshot and applied its committed entries. The leader may now count its own new
    /// entries toward commit.
    ///
    /// A leader's driver may pass `entriesDurable: false` when it wrote the entries but their
    /// fsync still runs (off the event loop, so that the followers' acknowledgements are read
    /// meanwhile). The leader then neither counts itself for them nor applies them until
    /// ``entriesBecameDurable(through:term:)``; the followers alone may commit them. Only a
    /// leader's ready without a snapshot may be advanced so.
    public mutating func advance(_ ready: RaftReady, entriesDurable: Bool = true) {
        precondition(readyOutstanding, "\(id): advance() without an outstanding ready")
        precondition(
            entriesDurable || (isLeader && ready.snapshot == nil),
            "\(id): only a leader's entries may become durable later")
        readyOutstanding = false
        if let snapshot = ready.snapshot, log.snapshotIndex == snapshot.metadata.index {
            log.stable = max(log.stable, snapshot.metadata.index)
            log.applied = max(log.applied, snapshot.metadata.index)
        }
        if entriesDurable, let last = ready.entriesToAppend.last,
            log.term(at: last.index) == last.term
        {
            log.stable = max(log.stable, last.index)
        }
        if let last = ready.committedEntries.last, last.index > log.applied {
            log.applied = last.index
        }
        if log.applyingThrough < log.applied { log.applyingThrough = log.applied }
        withLeaderState { node, state in
            if node.maybeCommit(state: &state) { node.commitBroadcastPending = true }
        }
    }

    /// Tells the node that an fsync that began after the entry `index` of `term` was written
    /// has finished: the log through it is durable (see ``advance(_:entriesDurable:)``). Stale
    /// news is ignored: when the entry at `index` is no longer of `term`, the log was rewritten
    /// since, and whoever rewrote it synced it again.
    public mutating func entriesBecameDurable(through index: LogIndex, term: Term) {
        guard index > log.stable, index <= log.lastIndex, log.term(at: index) == term else {
            return
        }
        log.stable = index
        withLeaderState { node, state in
            if node.maybeCommit(state: &state) { node.commitBroadcastPending = true }
        }
    }
}
