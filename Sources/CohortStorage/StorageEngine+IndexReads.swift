// Reads that the index alone answers, without touching segment files or the value cache.
extension StorageEngine {
    /// The highest committed sequence and the highest durable one, read together under the
    /// engine's lock. The network shell uses them on every reply, so this is one lock and no
    /// allocation (cheaper than `statistics`).
    public var sequences: (committed: UInt64, durable: UInt64) {
        condition.lock()
        defer { condition.unlock() }
        return (lastSequence, durableSequence)
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
