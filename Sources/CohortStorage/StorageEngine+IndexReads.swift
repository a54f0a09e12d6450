// Reads that the index alone answers, without touching segment files or the value cache.
extension StorageEngine {
    /// The highest committed sequence, the highest whose records are all in the files
    /// (`written`, which deferred appends hold back until `writeAppends`) and the highest
    /// durable one, read without the engine's lock: the network shell asks on every reply. The
    /// committed one is read first, so a caller that has just observed a commit sees
    /// `committed` at or above it; `written` and `durable` may then be ahead of `committed` (a
    /// write or an fsync finished in between), never behind what they were.
    public var sequences: (committed: UInt64, written: UInt64, durable: UInt64) {
        let committed = lastSequence
        return (committed, writtenSequence, durableSequence)
    }

    /// What a commit must reach before it is acknowledged under this engine's options.
    public var acknowledgementPoint: AcknowledgementPoint {
        switch options.fsync {
        case .batch: .durable
        case .everysec, .none: options.defersAppendWrites ? .written : .commit
        }
    }

    /// The sequence a reply that observed everything committed so far must wait for under
    /// `acknowledgementPoint`: the committed one when it is not yet written (or durable), else
    /// 0 (no wait). While deferred appends cannot be written (a full disk), reads do not wait:
    /// they may show writes applied in memory whose own replies are held until their records
    /// are written, as Redis serves reads while its AOF cannot be written. (Under `.batch` a
    /// failed write fails the engine; nothing is shown that is not durable.)
    public var observedSequenceToAwait: UInt64 {
        let sequences = self.sequences
        switch acknowledgementPoint {
        case .commit: return 0
        case .written:
            guard sequences.committed > sequences.written,
                !appendBlockedAtomic.load(ordering: .acquiring)
            else { return 0 }
            return sequences.committed
        case .durable: return sequences.committed > sequences.durable ? sequences.committed : 0
        }
    }
}

extension StorageEngine {
    /// The live version's metadata without reading its value from disk: for commands that
    /// only need existence, type or expiry (EXISTS, TTL, TYPE). Nil when absent or expired.
    /// `key` is the client's key.
    public func metadata(_ key: [UInt8], nowMillis: UInt64) throws -> VersionMetadata? {
        let key = EngineKey.user(key)
        condition.lock()
        defer { condition.unlock() }
        guard !isClosed else { throw StorageError.closed }
        return metadataLocked(key, nowMillis: nowMillis)
    }
}
