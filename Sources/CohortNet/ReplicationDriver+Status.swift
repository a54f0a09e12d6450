import CohortCore
import CohortNode
import CohortRaft
import CohortReplication

extension ReplicationDriver: ReplicationStatusSource {
    /// INFO replication fields (refreshed on the raft loop every tick).
    public func replicationFields(nowMillis: UInt64) -> [(String, String)] {
        var fields = statusBox.withLockedValue { $0.fields }
        if let identity {
            // Default group: the node's incarnation, and the peers it refused because their
            // data directory is not the one it remembers (see `NodeIdentity`).
            let refusals = identity.refusals
            fields.append(("incarnation", String(identity.incarnation, radix: 16)))
            fields.append(("peer_incarnations_refused", "\(refusals.count)"))
            if let last = refusals.last { fields.append(("peer_incarnation_refused_last", last)) }
        }
        if let extra = extraStatusFields { fields += extra() }
        return fields
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
        let status = runtime.status()
        statusBox.withLockedValue { $0 = status }
    }
}
