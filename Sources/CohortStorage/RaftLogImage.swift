import CohortCore
import CohortRaft

/// The meaning of a sequence of ``RaftLogRecord``s: the log's base (the position before its
/// first entry), its entries and the hard state. Recovery replays segments into one; the live
/// store applies every record it writes to its own, so both read the records the same way.
struct RaftLogImage: Hashable, Sendable {
    /// The index just before the first entry: zero, a snapshot's index, or where the oldest
    /// remaining segment starts.
    private(set) var baseIndex: LogIndex = .zero
    /// The term at `baseIndex`.
    private(set) var baseTerm: Term = .zero
    /// Entries after `baseIndex`, contiguous and ascending.
    private(set) var entries: [RaftEntry] = []
    /// The segment holding each entry of `entries` (same positions). Non-decreasing: a live
    /// entry is written after every live entry before it, since rewriting an index drops all
    /// entries after it.
    private(set) var entrySegments: [UInt32] = []
    /// The latest hard state.
    private(set) var hardState: RaftHardState = .initial
    /// The segment whose start record came last, nil before the first.
    private(set) var segmentID: UInt32?

    /// The last entry's index, or the base.
    var lastIndex: LogIndex { entries.last?.index ?? baseIndex }
    /// The last entry's term, or the base's.
    var lastTerm: Term { entries.last?.term ?? baseTerm }

    /// The term at `index` when it is the base or an entry.
    func term(at index: LogIndex) -> Term? {
        if index == baseIndex { return baseTerm }
        guard index > baseIndex, index <= lastIndex else { return nil }
        return entries[Int(index.rawValue - baseIndex.rawValue - 1)].term
    }

    /// Applies one record written to segment `segment`. Returns nil, or why the record cannot
    /// follow the ones before it (a structural corruption; the image is then unchanged).
    mutating func apply(_ record: RaftLogRecord, segment: UInt32) -> String? {
        switch record {
        case .segmentStart(let id, let previousIndex, let previousTerm):
            guard id == segment else {
                return "segment start names segment \(id) inside segment \(segment)"
            }
            if let current = segmentID {
                guard id == current + 1 else {
                    return "segment \(id) follows segment \(current): a segment is missing"
                }
                guard previousIndex == lastIndex, previousTerm == lastTerm else {
                    return "segment \(id) starts after \(previousIndex)@\(previousTerm) but the"
                        + " log ends at \(lastIndex)@\(lastTerm)"
                }
            } else {
                baseIndex = previousIndex
                baseTerm = previousTerm
                entries = []
                entrySegments = []
            }
            segmentID = id
        case .entry(let entry):
            guard entry.index == lastIndex.next else {
                return "entry \(entry.index)@\(entry.term) does not follow \(lastIndex)"
            }
            guard entry.term >= lastTerm else {
                return "entry \(entry.index)@\(entry.term) has a lower term than \(lastTerm)"
            }
            entries.append(entry)
            entrySegments.append(segment)
        case .truncation(let index, let previousTerm):
            guard index <= lastIndex, index > .zero else {
                return "truncation at \(index) beyond the log's end \(lastIndex)"
            }
            if index > baseIndex {
                let kept = Int(index.rawValue - baseIndex.rawValue - 1)
                let termBefore = kept == 0 ? baseTerm : entries[kept - 1].term
                guard termBefore == previousTerm else {
                    return "truncation at \(index) expects \(previousTerm) before it, found"
                        + " \(termBefore)"
                }
                entries.removeSubrange(kept...)
                entrySegments.removeSubrange(kept...)
            } else {
                // The entries it reaches were in segments that compaction removed (a snapshot
                // covers them); the record still says where the log continues.
                baseIndex = index.previous
                baseTerm = previousTerm
                entries = []
                entrySegments = []
            }
        case .hardState(let newHardState):
            hardState = newHardState
        case .logReset(let index, let term):
            baseIndex = index
            baseTerm = term
            entries = []
            entrySegments = []
        }
        return nil
    }

    /// Makes the log start after a snapshot through `index` at `term` (Raft §7): when the log
    /// holds `index` with that term, the entries after it stay; otherwise the snapshot replaces
    /// the whole log. Returns how many entries after `index` were discarded.
    @discardableResult
    mutating func adopt(snapshotIndex index: LogIndex, snapshotTerm: Term) -> Int {
        precondition(
            index >= baseIndex, "snapshot \(index) below the log's base \(baseIndex)")
        var discarded = 0
        if term(at: index) == snapshotTerm {
            let dropped = Int(index.rawValue - baseIndex.rawValue)
            entries.removeFirst(dropped)
            entrySegments.removeFirst(dropped)
        } else {
            discarded = entries.filter { $0.index > index }.count
            entries = []
            entrySegments = []
        }
        baseIndex = index
        baseTerm = snapshotTerm
        return discarded
    }

    /// Lowers the hard state's commit index to `index` (recovery after a cut log).
    mutating func limitCommit(to index: LogIndex) {
        hardState.commitIndex = min(hardState.commitIndex, index)
    }
}
