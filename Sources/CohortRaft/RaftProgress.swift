import CohortCore

/// What the leader knows about one follower's log.
public struct RaftProgress: Hashable, Sendable {
    /// The highest index known to match the leader's log durably on the follower.
    public internal(set) var matchIndex: LogIndex
    /// The next index to send.
    public internal(set) var nextIndex: LogIndex
    /// The flow-control state.
    public internal(set) var state: RaftProgressState
    /// In probe state: a probe was sent and the leader waits for its answer or a heartbeat.
    var probeSent: Bool = false
    /// In replicate state: the last index of each unacknowledged request, ascending.
    var inflightLastIndexes: [LogIndex] = []
    /// Whether the follower was heard from since the last check-quorum.
    public internal(set) var recentlyActive: Bool = false
    /// The highest heartbeat round the follower acknowledged.
    public internal(set) var heartbeatRoundAcknowledged: UInt64 = 0

    init(nextIndex: LogIndex) {
        self.matchIndex = .zero
        self.nextIndex = nextIndex
        self.state = .probe
    }

    /// Whether the leader must hold back AppendEntries to this follower for now.
    func isPaused(inflightMessagesMax: Int) -> Bool {
        switch state {
        case .probe: return probeSent
        case .replicate: return inflightLastIndexes.count >= inflightMessagesMax
        case .snapshot: return true
        }
    }

    mutating func becomeProbe() {
        if case .snapshot(let transfer) = state {
            nextIndex = max(matchIndex.next, transfer.metadata.index.next)
        } else {
            nextIndex = matchIndex.next
        }
        state = .probe
        probeSent = false
        inflightLastIndexes = []
    }

    mutating func becomeReplicate() {
        state = .replicate
        nextIndex = matchIndex.next
        probeSent = false
        inflightLastIndexes = []
    }

    /// Records an acknowledgement through `index`; returns whether the match index grew.
    mutating func update(matchedThrough index: LogIndex) -> Bool {
        var grew = false
        if index > matchIndex {
            matchIndex = index
            grew = true
            // Only news unpauses a probe; a duplicate answer must not trigger a resend loop.
            probeSent = false
        }
        if nextIndex < index.next { nextIndex = index.next }
        inflightLastIndexes.removeAll { $0 <= index }
        return grew
    }

    /// Moves `nextIndex` back after a rejection of the request that followed
    /// `rejectedIndex`, using the probe hint. Returns false for a stale rejection.
    mutating func decrease(rejectedIndex: LogIndex, probeIndex: LogIndex) -> Bool {
        if case .replicate = state {
            // A rejection of something already matched is stale.
            if rejectedIndex <= matchIndex { return false }
            nextIndex = matchIndex.next
            return true
        }
        // In probe state only the answer to the latest probe counts.
        guard nextIndex.rawValue == rejectedIndex.rawValue + 1 else { return false }
        nextIndex = max(min(rejectedIndex, probeIndex.next), matchIndex.next)
        probeSent = false
        return true
    }
}
