import CohortCore
import CohortRaft

/// What a simulated node's disk holds durably: the Raft hard state, the latest snapshot and
/// the log entries after it. A restarted node is rebuilt from exactly this.
public struct RaftDiskImage: DurableImage, Hashable {
    /// The last durable hard state.
    public private(set) var hardState: RaftHardState = .initial
    /// The last durable snapshot.
    public private(set) var snapshot: RaftSnapshot?
    /// Durable entries after the snapshot, contiguous and ascending.
    public private(set) var entries: [RaftEntry] = []

    /// An empty disk.
    public init() {}

    /// The index of the last durable entry (or of the snapshot).
    public var lastIndex: LogIndex {
        entries.last?.index ?? snapshot?.metadata.index ?? .zero
    }

    /// What `RaftNode` restarts from.
    public var durableState: RaftDurableState {
        RaftDurableState(hardState: hardState, snapshot: snapshot, entries: entries)
    }

    /// Applies one write.
    public mutating func apply(_ record: RaftDiskRecord) {
        switch record {
        case .installSnapshot(let newSnapshot):
            snapshot = newSnapshot
            entries = []
        case .compaction(let newSnapshot):
            guard newSnapshot.metadata.index > (snapshot?.metadata.index ?? .zero) else { return }
            snapshot = newSnapshot
            entries.removeAll { $0.index <= newSnapshot.metadata.index }
        case .entries(let newEntries):
            guard let first = newEntries.first else { return }
            precondition(
                first.index <= lastIndex.next,
                "disk write of \(first) leaves a gap after durable index \(lastIndex)")
            entries.removeAll { $0.index >= first.index }
            let snapshotIndex = snapshot?.metadata.index ?? .zero
            entries.append(contentsOf: newEntries.filter { $0.index > snapshotIndex })
        case .hardState(let newHardState):
            hardState = newHardState
        }
    }

    /// A torn entries write keeps a prefix of its entries (a checksummed log cuts a torn tail
    /// at an entry boundary on restart); any other torn write is lost entirely.
    public static func torn(_ record: RaftDiskRecord, random: inout SimRandom) -> RaftDiskRecord? {
        guard case .entries(let list) = record, list.count > 1 else { return nil }
        let kept = random.integer(in: 0...(list.count - 1))
        return kept == 0 ? nil : .entries(Array(list.prefix(kept)))
    }
}
