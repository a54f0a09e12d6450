import CohortCheck
import CohortCore
import CohortRaft

/// The log of a simulated node as the safety checker sees it, kept up to date from what the
/// node hands out (ready entries, snapshots, compactions) so that an observation after every
/// event costs only the change, not the whole log.
struct ObservedLog: Sendable {
    /// Index of the first entry held.
    private(set) var firstIndex = LogIndex(1)
    /// Entries held, contiguous from `firstIndex`.
    private(set) var entries: [ObservedEntry] = []

    /// The last index held (`firstIndex - 1` when empty).
    var lastIndex: LogIndex { LogIndex(firstIndex.rawValue + UInt64(entries.count) - 1) }

    /// The digest the checker compares entries by.
    static func digest(_ entry: RaftEntry) -> UInt64 {
        var hasher = TraceHasher()
        switch entry.kind {
        case .normal(let data):
            hasher.combine(byte: 1)
            for byte in data { hasher.combine(byte: byte) }
        case .noop:
            hasher.combine(byte: 2)
        case .membership(let membership):
            hasher.combine(byte: 3)
            for node in membership.voters { hasher.combine(node.rawValue) }
            hasher.combine(byte: 4)
            for node in membership.witnesses { hasher.combine(node.rawValue) }
            hasher.combine(byte: 5)
            for node in membership.learners { hasher.combine(node.rawValue) }
        case .normalDataOmitted:
            hasher.combine(byte: 6)
        }
        return hasher.value
    }

    /// Starts over from what a node restarted with.
    mutating func reset(snapshotIndex: LogIndex, entries: [RaftEntry]) {
        firstIndex = snapshotIndex.next
        self.entries = []
        append(entries)
    }

    /// Appends entries, first dropping any held at or after the first one's index.
    mutating func append(_ newEntries: [RaftEntry]) {
        guard let first = newEntries.first else { return }
        if first.index < firstIndex {
            // Entries the node already compacted away: keep only the part after the snapshot.
            append(newEntries.filter { $0.index >= firstIndex })
            return
        }
        let keep = Int(min(first.index.rawValue - firstIndex.rawValue, UInt64(entries.count)))
        entries.removeSubrange(keep...)
        if first.index > lastIndex.next {
            // A gap (should not happen): restart the view at the new entries.
            firstIndex = first.index
            entries = []
        }
        for entry in newEntries {
            entries.append(
                ObservedEntry(
                    index: entry.index, term: entry.term, payloadDigest: Self.digest(entry)))
        }
    }

    /// Drops entries through `index` (a compaction or an installed snapshot).
    mutating func compact(through index: LogIndex, replacesAll: Bool) {
        if replacesAll || index > lastIndex {
            firstIndex = index.next
            entries = []
            return
        }
        guard index >= firstIndex else { return }
        let dropped = Int(index.rawValue - firstIndex.rawValue + 1)
        entries.removeFirst(dropped)
        firstIndex = index.next
    }
}
