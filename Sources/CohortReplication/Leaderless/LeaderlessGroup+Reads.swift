import CohortCore

/// A read this node coordinates: the replicas' answers so far.
struct PendingRead: Sendable {
    var request: RequestID
    var key: [UInt8]
    var replies: [NodeID: SiblingSet] = [:]
    var needed: Int
    var expected: Int
    var deadline: UInt64
    var answered = false
    /// The merge of every answer so far.
    var merged = SiblingSet.empty
}

extension LeaderlessGroup {
    /// A client's read of `key`: asks all N replicas, answers with the merge of the first R
    /// states (``LeaderlessAction/readDone(_:_:)``), and then repairs every replica that
    /// answered an older state, including the ones that answer after the client has its reply.
    /// Any node coordinates a read. `readQuorum` overrides the keyspace's R for this read
    /// (COHORT R; clamped to 1...N).
    public mutating func submitRead(
        _ request: RequestID, key: [UInt8], readQuorum: Int? = nil, now: GroupTime
    ) {
        let preference = ring.preferenceList(of: key)
        let id = newRequestID()
        var needed = clampedQuorum(readQuorum) ?? configuration.readQuorum
        if configuration.faults.contains(.quorumOneShort) { needed = max(1, needed - 1) }
        reads[id] = PendingRead(
            request: request, key: key, needed: needed, expected: preference.count,
            deadline: deadline(now))
        for replica in preference {
            send(.read(request: RequestID(id), key: key), to: replica, now: now)
        }
    }

    /// `replica` answered read `id` with `state`.
    mutating func readReplied(_ id: UInt64, state: SiblingSet, by replica: NodeID, now: GroupTime) {
        guard var read = reads[id], read.replies[replica] == nil else { return }
        read.replies[replica] = state
        read.merged = read.merged.merged(with: state)
        if !read.answered, read.replies.count >= read.needed {
            read.answered = true
            statistics.readsAnswered += 1
            actions.append(
                .readDone(read.request, .found(read.merged, replies: read.replies.count)))
            if configuration.readRepair {
                for (peer, answered) in read.replies.sorted(by: { $0.key < $1.key })
                where answered != read.merged {
                    repair(read.key, read.merged, at: peer, now: now)
                }
            }
        } else if read.answered, configuration.readRepair, state != read.merged {
            repair(read.key, read.merged, at: replica, now: now)
        }
        if read.replies.count == read.expected {
            reads[id] = nil
        } else {
            reads[id] = read
        }
    }

    private mutating func repair(
        _ key: [UInt8], _ state: SiblingSet, at peer: NodeID, now: GroupTime
    ) {
        statistics.readRepairs += 1
        send(.repair(key: key, state: state), to: peer, now: now)
    }
}
