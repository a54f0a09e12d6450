import CohortCore

/// The engine's side of collections (see `EngineKey` and `CollectionHeader`): the version
/// high-water mark, the key-layout migration at open, and the removal of orphaned elements.
extension StorageEngine {
    /// The marker file saying the directory's keys follow `EngineKey`'s layout.
    static let keyLayoutMarkerName = "keys-v2"

    /// After recovery: migrates a directory written before `EngineKey`'s layout, then raises
    /// the version high-water mark over every element the index holds.
    func finishCollectionsAtOpen(nowMillis: UInt64) throws {
        if try !device.contentsOfDirectory(directory).contains(Self.keyLayoutMarkerName) {
            try migrateKeyLayout(nowMillis: nowMillis)
            try RaftLogFileSystem.writeAtomically(
                [], name: Self.keyLayoutMarkerName, directory: directory, device: device)
        }
        condition.lock()
        defer { condition.unlock() }
        noteCollectionVersionsLocked()
    }

    /// Before this layout every key was a client's key, stored as is: rewrites those that start
    /// with 0x00 escaped, in one group (recovery applies it whole or not at all).
    private func migrateKeyLayout(nowMillis: UInt64) throws {
        _ = try transaction(nowMillis: nowMillis) { txn in
            var old: [(key: [UInt8], value: StoredValue)] = []
            var iterator = index.makeIterator()
            while let (key, _) = iterator.next(), key.first == 0 {
                if let value = try readLocked(key, nowMillis: nowMillis) {
                    old.append((key, value))
                }
            }
            // Deletions first: an escaped key may equal another old key, and the later write
            // of a key wins.
            for (key, _) in old { txn.record(key, .delete) }
            for (key, value) in old {
                try txn.set(
                    engineKey: EngineKey.user(key), value: value.bytes, type: value.metadata.type,
                    expiresAtMillis: value.metadata.expiresAtMillis)
            }
        }
    }

    /// Raises `collectionVersionHigh` over the version of every element in the index. The
    /// caller holds `condition`.
    func noteCollectionVersionsLocked() {
        var iterator = index.makeIterator()
        while let (key, _) = iterator.next(), EngineKey.isInternal(key) {
            if let version = EngineKey.parseElement(key)?.version {
                collectionVersionHigh = max(collectionVersionHigh, version)
            }
        }
    }

    /// Whether the element at `key` (an internal key) belongs to no live collection: its
    /// collection's header is gone, expired, of another type or of another version.
    /// `lastHeader` carries the previous answer between calls, since one collection's elements
    /// lie together. The caller holds `condition`.
    func isOrphanLocked(
        _ key: [UInt8], nowMillis: UInt64,
        lastHeader: inout (prefix: [UInt8], isLive: Bool)?
    ) -> Bool {
        guard let parsed = EngineKey.parseElement(key) else { return true }
        let prefixCount = key.count - parsed.element.count
        if let lastHeader, lastHeader.prefix.count == prefixCount,
            EngineKey.hasPrefix(key, lastHeader.prefix)
        {
            return !lastHeader.isLive
        }
        let headerKey = EngineKey.user(Array(parsed.key))
        var isLive = false
        // readLocked answers nil for an absent or expired header.
        if let stored = try? readLocked(headerKey, nowMillis: nowMillis),
            stored.metadata.type.isCollection,
            let header = CollectionHeader(decoding: stored.bytes)
        {
            isLive = header.version == parsed.version
        }
        lastHeader = (Array(key[..<prefixCount]), isLive)
        return !isLive
    }
}

extension StorageEngine {
    /// Runs `body` with a read-only view of the committed state, under the engine's lock (so
    /// several reads of one command see one state). Writes made through the view are
    /// discarded; use `transaction` to write.
    public func read<R>(nowMillis: UInt64, _ body: (StorageTransaction) throws -> R) throws -> R {
        condition.lock()
        defer { condition.unlock() }
        guard !isClosed else { throw StorageError.closed }
        return try body(StorageTransaction(engine: self, nowMillis: nowMillis))
    }
}
