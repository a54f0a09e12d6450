import CohortCore
import CohortRaft

/// What a group shows operators: INFO replication's fields, in order, and the leader's view
/// of each follower.
public struct LeaderGroupStatus: Sendable {
    /// INFO replication fields.
    public var fields: [(String, String)]
    /// The leader's view of each follower (empty on a follower).
    public var followers: [FollowerStatus]

    /// An empty status.
    public init(fields: [(String, String)] = [], followers: [FollowerStatus] = []) {
        self.fields = fields
        self.followers = followers
    }
}

extension LeaderGroup {
    /// Recomputes the status as of `now` (the leader also notes which followers are caught up,
    /// for their lag). `rollbackEntries`: how many records the host's rollback log holds.
    public mutating func status(now time: GroupTime, rollbackEntries: Int) -> LeaderGroupStatus {
        advanceTime(time)
        let nowMillis = now.monotonicMillis
        let role: String
        switch raft.softState.role {
        case .leader: role = "leader"
        case .follower: role = "follower"
        case .preCandidate, .candidate: role = "candidate"
        }
        func names(_ ids: some Sequence<NodeID>) -> String {
            ids.map(name(of:)).sorted().joined(separator: ",")
        }
        var fields: [(String, String)] = [
            ("role", role),
            ("cohort_node", configuration.nodeName),
            ("cohort_keyspace", configuration.keyspace),
            ("cohort_leader", raft.leader.map(name(of:)) ?? ""),
            ("cohort_term", "\(raft.term.rawValue)"),
            ("cohort_commit_index", "\(raft.commitIndex.rawValue)"),
            ("cohort_applied_index", "\(appliedIndex.rawValue)"),
            ("cohort_last_index", "\(raft.lastIndex.rawValue)"),
            ("cohort_snapshot_index", "\(raft.snapshotIndex.rawValue)"),
            ("cohort_voters", names(raft.membership.voters)),
            ("cohort_learners", names(raft.membership.learners)),
            ("cohort_witnesses", names(raft.membership.witnesses)),
            ("cohort_last_election", lastLeaderChange),
            (
                "cohort_last_election_ms_ago",
                lastElectionMillis.map { "\(now.millis(since: $0))" } ?? ""
            ),
            ("cohort_rollback_entries", "\(rollbackEntries)"),
            ("cohort_default_ack", configuration.defaultAckMode.rawValue),
            ("cohort_keyspaces", catalog.sorted.map(\.name).joined(separator: ",")),
        ]
        var followers: [FollowerStatus] = []
        if raft.isLeader {
            for follower in raft.membership.allMembers.sorted(by: { $0.rawValue < $1.rawValue })
            where follower != nodeID {
                let progress = raft.leaderProgress(of: follower)
                let match = progress?.matchIndex ?? .zero
                if match >= raft.commitIndex { followerCaughtUpMillis[follower] = nowMillis }
                var status = FollowerStatus(
                    name: name(of: follower),
                    kind: raft.membership.learners.contains(follower)
                        ? "learner"
                        : raft.membership.witnesses.contains(follower) ? "witness" : "voter",
                    isOnline: progress?.recentlyActive ?? false, matchIndex: match.rawValue,
                    lagEntries: raft.lastIndex.rawValue
                        - min(match.rawValue, raft.lastIndex.rawValue),
                    lagMillis: followerCaughtUpMillis[follower].map { now.millis(since: $0) })
                if case .snapshot(let sending) = progress?.state {
                    status.snapshotTransfer = (
                        sending.metadata.index.rawValue, sending.offsetAcknowledged,
                        Int(raft.snapshot?.size ?? 0)
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
                raft.commitIndex.rawValue - min(appliedIndex.rawValue, raft.commitIndex.rawValue)
            fields.append(("cohort_lag_entries", "\(lagEntries)"))
            fields.append(
                ("cohort_lag_ms", freshAsOfMillis.map { "\(now.millis(since: $0))" } ?? "unknown"))
        }
        return LeaderGroupStatus(fields: fields, followers: followers)
    }
}
