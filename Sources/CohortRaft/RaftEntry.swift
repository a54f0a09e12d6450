import CohortCore

/// One entry of the replicated log.
public struct RaftEntry: Hashable, Sendable, CustomStringConvertible {
    /// Its position in the log.
    public var index: LogIndex
    /// The term of the leader that created it.
    public var term: Term
    /// What it carries.
    public var kind: RaftEntryKind

    /// Creates an entry.
    public init(index: LogIndex, term: Term, kind: RaftEntryKind) {
        self.index = index
        self.term = term
        self.kind = kind
    }

    /// Bytes this entry counts for against message byte bounds: its data, plus a fixed
    /// overhead for index, term and kind so that empty entries still count.
    public var sizeBytes: Int {
        let overheadBytes = 24
        switch kind {
        case .normal(let data): return overheadBytes + data.count
        case .membership(let membership): return overheadBytes + 8 * membership.allMembers.count
        case .noop, .normalDataOmitted: return overheadBytes
        }
    }

    /// The same entry with its data left out, as sent to a witness.
    public var withoutData: RaftEntry {
        guard case .normal = kind else { return self }
        return RaftEntry(index: index, term: term, kind: .normalDataOmitted)
    }

    /// A short form such as `i3@t2:normal(5 bytes)`.
    public var description: String {
        let kindText: String
        switch kind {
        case .normal(let data): kindText = "normal(\(data.count) bytes)"
        case .noop: kindText = "noop"
        case .membership(let membership): kindText = "membership(\(membership))"
        case .normalDataOmitted: kindText = "normal(omitted)"
        }
        return "\(index)@\(term):\(kindText)"
    }
}
