import CohortCore
import CohortNode
import CohortRaft
import CohortReplication

extension ReplicationDriver: ReplicationStatusSource {
    /// INFO replication fields (refreshed on the raft loop every tick).
    public func replicationFields(nowMillis: UInt64) -> [(String, String)] {
        statusBox.withLockedValue { $0.fields }
    }

    /// The leader's view of each follower (empty on a follower), as of the last tick.
    var followerStatuses: [FollowerStatus] {
        statusBox.withLockedValue { $0.followers }
    }

    public func rollbackLines(limit: Int) -> [String] {
        rollbackLog.newest(limit)
    }

    /// Recomputes the status fields. Loop-confined.
    func refreshStatus() {
        let now = WallClock.nowMillis()
        let role: String
        switch node.softState.role {
        case .leader: role = "leader"
        case .follower: role = "follower"
        case .preCandidate, .candidate: role = "candidate"
        }
        var fields: [(String, String)] = [
            ("role", role),
            ("cohort_node", configuration.nodeName),
            ("cohort_keyspace", keyspace),
            ("cohort_leader", node.leader.map(name(of:)) ?? ""),
            ("cohort_term", "\(node.term.rawValue)"),
            ("cohort_commit_index", "\(node.commitIndex.rawValue)"),
            ("cohort_applied_index", "\(appliedIndex.rawValue)"),
            ("cohort_last_index", "\(node.lastIndex.rawValue)"),
            ("cohort_snapshot_index", "\(node.snapshotIndex.rawValue)"),
            (
                "cohort_voters",
                node.membership.voters.map(name(of:)).sorted().joined(separator: ",")
            ),
            (
                "cohort_learners",
                node.membership.learners.map(name(of:)).sorted().joined(separator: ",")
            ),
            (
                "cohort_witnesses",
                node.membership.witnesses.map(name(of:)).sorted().joined(separator: ",")
            ),
            ("cohort_last_election", lastLeaderChange),
            (
                "cohort_last_election_ms_ago",
                lastElectionMillis == 0 ? "" : "\(now - lastElectionMillis)"
            ),
            ("cohort_rollback_entries", "\(rollbackLog.count)"),
            ("cohort_default_ack", configuration.ackMode.rawValue),
            ("cohort_keyspaces", catalog.sorted.map(\.name).joined(separator: ",")),
        ]
        var followers: [FollowerStatus] = []
        if node.isLeader {
            for follower in node.membership.allMembers where follower != nodeID {
                let progress = node.leaderProgress(of: follower)
                let match = progress?.matchIndex ?? .zero
                if match >= node.commitIndex { followerCaughtUpMillis[follower] = now }
                var status = FollowerStatus(
                    name: name(of: follower),
                    kind: node.membership.learners.contains(follower)
                        ? "learner"
                        : node.membership.witnesses.contains(follower) ? "witness" : "voter",
                    isOnline: progress?.recentlyActive ?? false, matchIndex: match.rawValue,
                    lagEntries: node.lastIndex.rawValue
                        &- min(match.rawValue, node.lastIndex.rawValue),
                    lagMillis: followerCaughtUpMillis[follower].map { now - $0 })
                if case .snapshot(let sending) = progress?.state {
                    status.snapshotTransfer = (
                        sending.metadata.index.rawValue, sending.offsetAcknowledged,
                        node.snapshot?.data.count ?? 0
                    )
                }
                followers.append(status)
            }
            fields.append(("connected_slaves", "\(followers.count)"))
            for (position, follower) in followers.enumerated() {
                fields.append(("slave\(position)", follower.infoValue))
            }
        } else {
            fields.append(("connected_slaves", "0"))
            let lagEntries =
                node.commitIndex.rawValue &- min(appliedIndex.rawValue, node.commitIndex.rawValue)
            fields.append(("cohort_lag_entries", "\(lagEntries)"))
            fields.append(
                (
                    "cohort_lag_ms",
                    lastCaughtUpMillis == 0 ? "unknown" : "\(now - lastCaughtUpMillis)"
                ))
        }
        statusBox.withLockedValue { $0 = (fields, followers) }
    }

    /// Before the log store overwrites entries a new leader replaced, records the ones that
    /// carried writes in the rollback log.
    func recordDiscardedEntries(replacedBy ready: RaftReady) {
        guard let first = ready.entriesToAppend.first, first.index <= store.lastIndex else {
            return
        }
        let newTerms = Dictionary(
            ready.entriesToAppend.map { ($0.index, $0.term) }, uniquingKeysWith: { $1 })
        var index = first.index
        let now = WallClock.nowMillis()
        while index <= store.lastIndex {
            if let old = store.entry(at: index), newTerms[index] != old.term,
                case .normal(let data) = old.kind, let logical = LogicalEntryCodec.decode(data),
                !logical.isEmpty
            {
                do {
                    try rollbackLog.record(
                        index: index, term: old.term, entry: logical, nowMillis: now)
                } catch {
                    logger.error(
                        "could not write rollback.log",
                        metadata: ["index": "\(index)", "error": "\(error)"])
                }
                logger.warning(
                    "a new leader discarded an uncommitted write; recorded in rollback.log",
                    metadata: ["index": "\(index)", "term": "\(old.term)"])
            }
            index = index.next
        }
    }
}
