import CohortCore

/// The in-memory log: a compacted prefix described by `snapshotIndex`/`snapshotTerm`,
/// followed by `entries`, with the bookkeeping of what is committed, durable and applied.
///
/// Invariants (checked in ``RaftNode/checkInvariants()``):
/// `snapshotIndex <= applied <= applyingThrough <= committed <= lastIndex` and
/// `applyingThrough <= stable` where applying has happened.
struct RaftLog: Hashable, Sendable {
    /// The last index folded into the snapshot (zero when nothing was compacted).
    var snapshotIndex: LogIndex
    /// The term of the entry at `snapshotIndex`.
    var snapshotTerm: Term
    /// The membership in effect at `snapshotIndex`.
    var snapshotMembership: RaftMembership
    /// The entries after `snapshotIndex`, contiguous.
    var entries: [RaftEntry]
    /// The highest index known committed.
    var committed: LogIndex
    /// The highest index the application confirmed applied (through ``RaftNode/advance(_:)``).
    var applied: LogIndex
    /// The highest index handed out for applying.
    var applyingThrough: LogIndex
    /// The highest index known durable locally and still in this log.
    var stable: LogIndex
    /// The first index not yet handed out for persistence.
    var unemittedFrom: LogIndex

    init(snapshot: RaftSnapshotMetadata?, bootstrapMembership: RaftMembership, entries: [RaftEntry])
    {
        snapshotIndex = snapshot?.index ?? .zero
        snapshotTerm = snapshot?.term ?? .zero
        snapshotMembership = snapshot?.membership ?? bootstrapMembership
        for (offset, entry) in entries.enumerated() {
            precondition(
                entry.index == snapshotIndex + UInt64(offset + 1),
                "entries not contiguous after snapshot \(snapshotIndex): \(entry) at offset \(offset)"
            )
        }
        self.entries = entries
        committed = snapshotIndex
        applied = snapshotIndex
        applyingThrough = snapshotIndex
        stable = snapshotIndex + UInt64(entries.count)
        unemittedFrom = stable.next
    }

    var firstIndex: LogIndex { snapshotIndex.next }
    var lastIndex: LogIndex { snapshotIndex + UInt64(entries.count) }
    var lastTerm: Term { entries.last?.term ?? snapshotTerm }

    private func offset(of index: LogIndex) -> Int {
        Int(index.rawValue - snapshotIndex.rawValue - 1)
    }

    /// The term of the entry at `index`, if known (the snapshot's last entry counts).
    func term(at index: LogIndex) -> Term? {
        if index == snapshotIndex { return snapshotTerm }
        if index < snapshotIndex || index > lastIndex { return nil }
        return entries[offset(of: index)].term
    }

    /// The entry at `index`, if held in memory.
    func entry(at index: LogIndex) -> RaftEntry? {
        if index <= snapshotIndex || index > lastIndex { return nil }
        return entries[offset(of: index)]
    }

    func matches(index: LogIndex, term: Term) -> Bool {
        self.term(at: index) == term
    }

    /// Whether a log ending at (`lastIndex`, `lastTerm`) is at least as up to date as this
    /// one (Raft §5.4.1).
    func isUpToDate(lastIndex otherIndex: LogIndex, lastTerm otherTerm: Term) -> Bool {
        otherTerm > lastTerm || (otherTerm == lastTerm && otherIndex >= lastIndex)
    }

    /// Entries from `start` through `end`, at most `countMax` of them and at most `bytesMax`
    /// bytes (but at least one entry when any is available).
    func entries(from start: LogIndex, through end: LogIndex, countMax: Int, bytesMax: Int)
        -> [RaftEntry]
    {
        guard start <= end, start > snapshotIndex, end <= lastIndex else { return [] }
        var result: [RaftEntry] = []
        var bytes = 0
        var index = offset(of: start)
        let endOffset = offset(of: end)
        while index <= endOffset && result.count < countMax {
            let entry = entries[index]
            if !result.isEmpty && bytes + entry.sizeBytes > bytesMax { break }
            bytes += entry.sizeBytes
            result.append(entry)
            index += 1
        }
        return result
    }

    /// The last index at or below `index` whose term is at most `term`, with that term; term
    /// zero when the term is compacted away (fast backtracking, as in etcd's raft).
    func conflictHint(index: LogIndex, term: Term) -> (index: LogIndex, term: Term) {
        var probe = min(index, lastIndex)
        while true {
            guard let probeTerm = self.term(at: probe) else { return (probe, .zero) }
            if probeTerm <= term || probe == .zero { return (probe, probeTerm) }
            probe = probe.previous
        }
    }

    mutating func append(_ newEntries: [RaftEntry]) {
        for entry in newEntries {
            precondition(
                entry.index == lastIndex.next, "appending \(entry) after last index \(lastIndex)")
            entries.append(entry)
        }
    }

    /// Drops the entries at `index` and after.
    mutating func truncate(from index: LogIndex) {
        precondition(
            index > snapshotIndex, "truncating at \(index) inside snapshot \(snapshotIndex)")
        guard index <= lastIndex else { return }
        entries.removeSubrange(offset(of: index)...)
        if stable >= index { stable = index.previous }
        if unemittedFrom > index { unemittedFrom = index }
    }

    /// Folds the entries through `index` into a snapshot described by the arguments.
    mutating func compact(through index: LogIndex, term: Term, membership: RaftMembership) {
        precondition(
            index > snapshotIndex && index <= lastIndex,
            "compacting through \(index) outside \(snapshotIndex)...\(lastIndex)")
        entries.removeSubrange(..<(offset(of: index) + 1))
        snapshotIndex = index
        snapshotTerm = term
        snapshotMembership = membership
    }

    /// Replaces the whole log by a snapshot received from the leader.
    mutating func restore(_ metadata: RaftSnapshotMetadata) {
        entries = []
        snapshotIndex = metadata.index
        snapshotTerm = metadata.term
        snapshotMembership = metadata.membership
        committed = max(committed, metadata.index)
        applied = metadata.index
        applyingThrough = metadata.index
        stable = metadata.index
        unemittedFrom = metadata.index.next
    }

    /// The membership in effect at `index`: the last membership entry at or before it.
    func membership(at index: LogIndex) -> RaftMembership {
        var probe = min(index, lastIndex)
        while probe > snapshotIndex {
            if case .membership(let membership) = entries[offset(of: probe)].kind {
                return membership
            }
            probe = probe.previous
        }
        return snapshotMembership
    }

    /// The index of the last membership entry at or before `index`, or the snapshot index.
    func membershipIndex(at index: LogIndex) -> LogIndex {
        var probe = min(index, lastIndex)
        while probe > snapshotIndex {
            if case .membership = entries[offset(of: probe)].kind { return probe }
            probe = probe.previous
        }
        return snapshotIndex
    }
}
