import CohortCore
import CohortRaft

extension LeaderGroup {
    /// The host's timer fired (every tick interval).
    public mutating func tick(now time: GroupTime) {
        guard !isStopped else { return }
        advanceTime(time)
        raft.tick()
        reconcileKeyspaceMembership()
        checkLeftKeyspace()
        expireDeadlines()
    }

    /// A peer's Raft message for this group arrived.
    public mutating func receive(_ message: RaftMessage, now time: GroupTime) {
        guard !isStopped else { return }
        advanceTime(time)
        raft.receive(message)
        // A message from the leader of our term tells us how far it has committed: the proof
        // that bounded-staleness reads rest on.
        guard message.body.isFromLeader, message.term == raft.term, raft.leader == message.from,
            !raft.isLeader
        else { return }
        switch message.body {
        case .appendEntriesRequest(let request): recordLeaderContact(commit: request.leaderCommit)
        case .heartbeatRequest(let commit, _): recordLeaderContact(commit: commit)
        default: break
        }
    }

    /// A keyspace group learns its keyspace's new definition (members changed).
    public mutating func updateKeyspace(_ definition: KeyspaceDefinition) {
        guard !isStopped else { return }
        for member in definition.members { names[Self.nodeID(named: member)] = member }
        desiredKeyspace = definition
    }

    /// Leadership changed: a new leader rebuilds the overlay from its unapplied log entries
    /// (it will commit them); anyone else drops it. Parked requests retry.
    mutating func roleChanged(_ softState: RaftSoftState) {
        if softState.role == .leader || softState.role == .follower {
            lastLeaderChange =
                "term \(softState.term.rawValue) leader \(softState.leader.map(name(of:)) ?? "none")"
            lastElectionMillis = now.monotonicMillis
        }
        clearOverlay()
        // Writes of an earlier leadership are answered when their entries apply.
        leaderModeIndexes.removeAll()
        committedAllModeIndexes.removeAll()
        if softState.leader != knownLeader {
            // Requests forwarded to the old leader may or may not have reached it; waiting for
            // its answer would hold clients for the whole timeout after a crash.
            knownLeader = softState.leader
            let orphaned = forwardedWrites.sorted { $0.key < $1.key }
            forwardedWrites.removeAll()
            for (_, forwarded) in orphaned {
                answer(forwarded.target, Self.uncertain, token: .zero)
            }
            // Raft drops ReadIndex requests on a leader change; a read has no effect, so ask
            // the new leader (or wait for one) instead of letting it time out.
            let reads = readIndexRequests.sorted { $0.key < $1.key }
            readIndexRequests.removeAll()
            for (_, read) in reads {
                readIndex(
                    token: read.token, deadlineMillis: read.deadlineMillis, request: read.request)
            }
            // What an earlier leader told us proves nothing about the new one.
            leaderContacts.removeAll()
        }
        if softState.role == .leader {
            log(.info, "became leader", ["term": "\(softState.term)"])
            var index = appliedIndex.next
            while index <= raft.lastIndex {
                if let entry = raft.entry(at: index), case .normal(let data) = entry.kind,
                    let logical = LogicalEntryCodec.decode(data)
                {
                    addToOverlay(logical, at: index)
                }
                index = index.next
            }
            followerCaughtUpMillis.removeAll()
        }
        if softState.leader != nil { retryParked() }
    }
}
