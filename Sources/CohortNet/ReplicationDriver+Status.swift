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
        let status = group.status(now: Self.now(), rollbackEntries: rollbackLog.count)
        statusBox.withLockedValue { $0 = status }
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
                rollbackLog.record(index: index, term: old.term, entry: logical, nowMillis: now)
                logger.warning(
                    "a new leader discarded an uncommitted write; recorded in rollback.log",
                    metadata: ["index": "\(index)", "term": "\(old.term)"])
            }
            index = index.next
        }
    }
}
