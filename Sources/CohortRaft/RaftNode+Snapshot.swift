import CohortCore

extension RaftNode {
    /// Records that the application took a snapshot of its state through `index` (at most the
    /// applied index), and drops the log entries it covers. The node keeps the snapshot to
    /// send to followers that fall behind the compacted log. The driver persists the snapshot
    /// itself (it made it) before discarding the durable log prefix.
    public mutating func compact(upTo index: LogIndex, snapshotData: [UInt8]) {
        precondition(
            index <= log.applied,
            "\(id): compacting through \(index) beyond applied \(log.applied)")
        guard index > log.snapshotIndex else { return }
        guard let snapshotTerm = log.term(at: index) else {
            preconditionFailure("\(id): no term at \(index) to compact")
        }
        let metadata = RaftSnapshotMetadata(
            index: index, term: snapshotTerm, membership: log.membership(at: index))
        latestSnapshot = RaftSnapshot(metadata: metadata, data: snapshotData)
        log.compact(through: index, term: snapshotTerm, membership: metadata.membership)
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
        let data = membership.witnesses.contains(peer) ? [] : snapshot.data
        let start = Int(min(transfer.offsetAcknowledged, UInt64(data.count)))
        let end = min(start + config.snapshotChunkBytesMax, data.count)
        let request = RaftInstallSnapshotRequest(
            metadata: snapshot.metadata, offset: UInt64(start), chunk: Array(data[start..<end]),
            isLastChunk: end == data.count)
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
            incomingSnapshot = RaftIncomingSnapshot(metadata: metadata, data: [])
        }
        guard var incoming = incomingSnapshot, incoming.metadata == metadata,
            request.offset == UInt64(incoming.data.count)
        else {
            let have =
                incomingSnapshot.map { $0.metadata == metadata ? UInt64($0.data.count) : 0 } ?? 0
            send(
                to: sender, term: term,
                body: .installSnapshotResponse(
                    .progress(snapshotIndex: metadata.index, nextOffset: have)))
            return
        }
        guard incoming.data.count + request.chunk.count <= config.incomingSnapshotBytesMax else {
            // Over the bound: drop the transfer rather than grow without limit.
            incomingSnapshot = nil
            return
        }
        incoming.data.append(contentsOf: request.chunk)
        guard request.isLastChunk else {
            incomingSnapshot = incoming
            send(
                to: sender, term: term,
                body: .installSnapshotResponse(
                    .progress(
                        snapshotIndex: metadata.index, nextOffset: UInt64(incoming.data.count))))
            return
        }
        incomingSnapshot = nil
        install(RaftSnapshot(metadata: metadata, data: incoming.data))
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
