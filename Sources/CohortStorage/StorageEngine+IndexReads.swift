// Reads that the index alone answers, without touching segment files or the value cache.
extension StorageEngine {
    /// The highest committed sequence and the highest durable one, read without the engine's
    /// lock: the network shell asks on every reply. The committed one is read first, so a
    /// caller that has just observed a commit sees `committed` at or above it; `durable` may
    /// then be ahead of `committed` (an fsync finished in between), never behind what it was.
    public var sequences: (committed: UInt64, durable: UInt64) {
        let committed = lastSequence
        return (committed, durableSequence)
    }
}

extension StorageEngine {
    /// The live version's metadata without reading its value from disk: for commands that
    /// only need existence, type or expiry (EXISTS, TTL, TYPE). Nil when absent or expired.
    public func metadata(_ key: [UInt8], nowMillis: UInt64) throws -> VersionMetadata? {
        condition.lock()
        defer { condition.unlock() }
        guard !isClosed else { throw StorageError.closed }
        return metadataLocked(key, nowMillis: nowMillis)
    }
}
