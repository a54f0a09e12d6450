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
        noteFreshness(message)
    }

    /// What a message says about this node's staleness.
    mutating func noteFreshness(_ message: RaftMessage) {
        if raft.isLeader {
            // A follower's answer in our term: it followed us when it sent it (the proof a
            // leader's bounded-staleness reads rest on; see `isFresh`).
            if message.body.isLeaderBound, message.term == raft.term {
                followerHeardMillis[message.from] = now.monotonicMillis
            }
            return
        }
        // A message from the leader of our term tells us how far it has committed: the proof
        // that a follower's bounded-staleness reads rest on. Only AppendEntries carries the
        // leader's whole commit index; a heartbeat's is capped at what the leader knows this
        // follower holds, so a follower that is behind would take it for proof of being
        // current. An idle follower therefore stops being fresh a bound after the last
        // append, and its bounded reads go through ReadIndex until writes flow. And only a
        // commit index at an entry of the leader's own term covers every earlier commit (a
        // new leader learns what its predecessors committed only by committing in its term,
        // Raft §5.4.2): until then the message proves nothing.
        guard message.body.isFromLeader, message.term == raft.term, raft.leader == message.from
        else { return }
        if case .appendEntriesRequest(let request) = message.body,
            raft.term(at: request.leaderCommit) == message.term
        {
            recordLeaderContact(commit: request.leaderCommit)
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
            followerHeardMillis.removeAll()
        }
        if softState.leader != nil { retryParked() }
    }
}
