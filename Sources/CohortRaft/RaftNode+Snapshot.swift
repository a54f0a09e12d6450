import CohortCore

extension RaftNode {
    /// What a snapshot of the state through `index` (at most the applied index, above the
    /// current snapshot) is labelled with: the application writes it under this before
    /// ``compact(upTo:snapshotBytes:)``. Nil when the log no longer holds `index`.
    public func snapshotMetadata(through index: LogIndex) -> RaftSnapshotMetadata? {
        guard index > log.snapshotIndex, index <= log.applied,
            let snapshotTerm = log.term(at: index)
        else { return nil }
        return RaftSnapshotMetadata(
            index: index, term: snapshotTerm, membership: log.membership(at: index))
    }

    /// Records that the application wrote a snapshot of its state through `index` (at most the
    /// applied index), `snapshotBytes` long, and drops the log entries it covers. The node
    /// sends it, chunk by chunk, to followers that fall behind the compacted log; the host
    /// reads the chunks from where it wrote the data. The driver persists the snapshot itself
    /// (it made it) before discarding the durable log prefix.
    public mutating func compact(upTo index: LogIndex, snapshotBytes: UInt64) {
        precondition(
            index <= log.applied,
            "\(id): compacting through \(index) beyond applied \(log.applied)")
        guard index > log.snapshotIndex else { return }
        guard let metadata = snapshotMetadata(through: index) else {
            preconditionFailure("\(id): no term at \(index) to compact")
        }
        latestSnapshot = RaftSnapshot(metadata: metadata, size: snapshotBytes)
        log.compact(through: index, term: metadata.term, membership: metadata.membership)
    }

    mutating func startSnapshotTransfer(to peer: NodeID, state: inout RaftLeaderState) {
        guard let snapshot = latestSnapshot, var progress = state.progress[peer] else {
            preconditionFailure("\(id): a follower needs compacted entries but no snapshot is held")
        }
        progress.state = .snapshot(
            RaftSnapshotTransfer(metadata: snapshot.metadata, offsetAcknowledged: 0))
        progress.probeSent = false
        progress.inflightLastIndexes = []
        state.progress[peer] = progress
        sendSnapshotChunk(to: peer, state: &state)
    }

    /// Sends the chunk after the acknowledged offset (stop-and-wait; the heartbeat timer
    /// resends it when lost).
    mutating func sendSnapshotChunk(to peer: NodeID, state: inout RaftLeaderState) {
        guard let progress = state.progress[peer], case .snapshot(let transfer) = progress.state,
            let snapshot = latestSnapshot
        else { return }
        if transfer.metadata != snapshot.metadata {
            // The leader compacted again and only holds its newest snapshot: start over.
            startSnapshotTransfer(to: peer, state: &state)
            return
        }
        // Witnesses keep no state-machine data: they receive the metadata only.
        let size = membership.witnesses.contains(peer) ? 0 : snapshot.size
        let start = min(transfer.offsetAcknowledged, size)
        let end = min(start + UInt64(config.snapshotChunkBytesMax), size)
        let request = RaftInstallSnapshotRequest(
            metadata: snapshot.metadata, offset: start, chunkLength: Int(end - start),
            isLastChunk: end == size)
        send(to: peer, term: term, body: .installSnapshotRequest(request))
    }

    mutating func handleInstallSnapshot(from sender: NodeID, request: RaftInstallSnapshotRequest) {
        let metadata = request.metadata
        if metadata.index <= log.committed {
            // Our committed prefix already covers it.
            incomingSnapshot = nil
            send(
                to: sender, term: term,
                body: .installSnapshotResponse(.complete(snapshotIndex: log.committed)))
            return
        }
        if request.offset == 0 {
            incomingSnapshot = RaftIncomingSnapshot(metadata: metadata, receivedBytes: 0)
        }
        guard var incoming = incomingSnapshot, incoming.metadata == metadata,
            request.offset == incoming.receivedBytes
        else {
            let have =
                incomingSnapshot.map { $0.metadata == metadata ? $0.receivedBytes : 0 } ?? 0
            send(
                to: sender, term: term,
                body: .installSnapshotResponse(
                    .progress(snapshotIndex: metadata.index, nextOffset: have)))
            return
        }
        guard
            incoming.receivedBytes + UInt64(request.chunk.count)
                <= UInt64(config.incomingSnapshotBytesMax)
        else {
            // Over the bound: drop the transfer rather than grow without limit.
            incomingSnapshot = nil
            return
        }
        // The host writes the bytes (before this ready's response goes out).
        snapshotChunksToPersist.append(
            RaftSnapshotChunk(metadata: metadata, offset: request.offset, bytes: request.chunk))
        incoming.receivedBytes += UInt64(request.chunk.count)
        guard request.isLastChunk else {
            incomingSnapshot = incoming
            send(
                to: sender, term: term,
                body: .installSnapshotResponse(
                    .progress(snapshotIndex: metadata.index, nextOffset: incoming.receivedBytes)))
            return
        }
        incomingSnapshot = nil
        install(RaftSnapshot(metadata: metadata, size: incoming.receivedBytes))
        send(
            to: sender, term: term,
            body: .installSnapshotResponse(.complete(snapshotIndex: metadata.index)))
    }

    /// Installs a snapshot received from the leader (Raft §7): when the log already holds the
    /// snapshot's last entry, only the commit index moves; otherwise the log is replaced.
    mutating func install(_ snapshot: RaftSnapshot) {
        let metadata = snapshot.metadata
        if log.matches(index: metadata.index, term: metadata.term) {
            commit(through: metadata.index)
            return
        }
        precondition(
            metadata.index > log.committed || !config.faults.isEmpty,
            "\(id): snapshot \(metadata.index) would replace committed log through \(log.committed)"
        )
        log.restore(metadata)
        membership = metadata.membership
        membershipIndex = metadata.index
        latestSnapshot = snapshot
        snapshotToPersist = snapshot
    }

    mutating func handleInstallSnapshotResponse(
        from peer: NodeID, response: RaftInstallSnapshotResponse, state: inout RaftLeaderState
    ) {
        guard var progress = state.progress[peer] else { return }
        progress.recentlyActive = true
        switch response {
        case .complete(let snapshotIndex):
            guard snapshotIndex <= log.lastIndex else { return }
            let grew = progress.update(matchedThrough: snapshotIndex)
            if case .snapshot = progress.state { progress.becomeProbe() }
            state.progress[peer] = progress
            if grew && maybeCommit(state: &state) { commitBroadcastPending = true }
            sendAppend(to: peer, sendIfEmpty: true, state: &state)
        case .progress(let snapshotIndex, let nextOffset):
            guard case .snapshot(var transfer) = progress.state,
                transfer.metadata.index == snapshotIndex
            else {
                state.progress[peer] = progress
                return
            }
            let advanced = nextOffset > transfer.offsetAcknowledged
            transfer.offsetAcknowledged = nextOffset
            progress.state = .snapshot(transfer)
            state.progress[peer] = progress
            if advanced || nextOffset == 0 { sendSnapshotChunk(to: peer, state: &state) }
        }
    }
}
