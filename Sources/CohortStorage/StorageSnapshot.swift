import Foundation

/// A consistent point-in-time view of the engine: a Sequence of live `(key, value)` pairs in
/// key order, values read lazily from the segment files, which it keeps open while it lives.
/// Read failures (I/O, a corrupt record) skip the pair and are collected in `readErrors`.
public final class StorageSnapshot: Sequence, @unchecked Sendable {
    let index: OrderedIndex
    let files: [UInt32: SegmentFile]
    /// Records that could not be written to their file when the snapshot was taken.
    let pending: PendingRecords?
    let options: StorageOptions
    /// Expiry is judged at this time.
    public let nowMillis: UInt64
    /// The last sequence committed when the snapshot was taken.
    public let sequence: UInt64
    private let errorLock = NSLock()
    private var errors: [StorageError] = []

    init(
        index: OrderedIndex, files: [UInt32: SegmentFile], pending: PendingRecords?,
        nowMillis: UInt64, sequence: UInt64, options: StorageOptions
    ) {
        self.index = index
        self.files = files
        self.pending = pending
        self.nowMillis = nowMillis
        self.sequence = sequence
        self.options = options
    }

    /// Keys in the snapshot, expired ones included.
    public var keyCountApproximate: Int { index.count }

    /// Read failures met while iterating.
    public var readErrors: [StorageError] {
        errorLock.lock()
        defer { errorLock.unlock() }
        return errors
    }

    /// The value of `key` in this snapshot.
    public func get(_ key: [UInt8]) throws -> StoredValue? {
        guard let entry = index.get(key), !entry.metadata.isTombstone,
            !entry.metadata.isExpired(nowMillis: nowMillis)
        else { return nil }
        return try read(key: key, entry: entry)
    }

    func read(key: [UInt8], entry: IndexEntry) throws(StorageError) -> StoredValue {
        guard let file = files[entry.segmentID] else {
            preconditionFailure("snapshot entry points to missing segment \(entry.segmentID)")
        }
        return try StorageEngine.readValue(
            key: key, entry: entry,
            from: ValueSource(entry: entry, file: file, pending: pending), options: options)
    }

    func record(_ error: StorageError) {
        errorLock.lock()
        errors.append(error)
        errorLock.unlock()
    }

    /// Iterates live pairs in key order.
    public struct Iterator: IteratorProtocol {
        let snapshot: StorageSnapshot
        var inner: OrderedIndex.Iterator

        public mutating func next() -> (key: [UInt8], value: StoredValue)? {
            while let (key, entry) = inner.next() {
                if entry.metadata.isTombstone
                    || entry.metadata.isExpired(nowMillis: snapshot.nowMillis)
                {
                    continue
                }
                do throws(StorageError) {
                    return (key, try snapshot.read(key: key, entry: entry))
                } catch {
                    snapshot.record(error)
                }
            }
            return nil
        }
    }

    /// Iterates from the first key.
    public func makeIterator() -> Iterator {
        Iterator(snapshot: self, inner: index.makeIterator())
    }

    /// Iterates the keys after `cursor`, for paging through a snapshot.
    public func makeIterator(after cursor: [UInt8]?) -> Iterator {
        Iterator(snapshot: self, inner: index.makeIterator(after: cursor))
    }
}
