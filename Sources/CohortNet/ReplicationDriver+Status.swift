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
        let status = runtime.status()
        statusBox.withLockedValue { $0 = status }
    }
}
