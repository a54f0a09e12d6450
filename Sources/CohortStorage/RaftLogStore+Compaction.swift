import CohortCore
import CohortRaft

extension RaftLogStore {
    /// Removes the segment files that hold nothing the log still needs once a durable
    /// snapshot covers everything through `index` (``saveSnapshot(_:)`` or a received snapshot
    /// first; `index` must not exceed ``snapshotIndex``). Only whole segments go, and never
    /// the active one: those before the segment holding the first entry after `index`.
    /// Returns the names of the removed files.
    ///
    /// Safe at any crash point: the snapshot is durable first, and every remaining segment
    /// starts with the log position before it and a hard state, and the latest hard state is
    /// in the newest segment that holds one.
    @discardableResult
    public func compact(upTo index: LogIndex) throws(StorageError) -> [String] {
        try checkWritable()
        precondition(
            index <= image.baseIndex,
            "compacting through \(index) beyond the durable snapshot \(image.baseIndex)")
        let keepFrom: UInt32
        if let position = image.entries.firstIndex(where: { $0.index > index }) {
            keepFrom = image.entrySegments[position]
        } else {
            keepFrom = segments.last!.id
        }
        let doomed = segments.prefix { $0.id < keepFrom }
        guard !doomed.isEmpty else { return [] }
        let names = doomed.map(\.name)
        do {
            for name in names {
                try RaftLogFileSystem.remove(name, directory: directory, device: device)
            }
            try RaftLogFileSystem.syncDirectory(directory, device: device)
        } catch {
            failure = error
            throw error
        }
        segments.removeFirst(doomed.count)
        return names
    }
}
