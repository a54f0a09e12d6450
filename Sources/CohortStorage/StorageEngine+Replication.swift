import CohortCore

/// What a replication group needs of the engine: writes evaluated without being committed,
/// writes applied under the log index that carried them, and the whole state replaced by a
/// snapshot. Under replication the engine's sequence is the last applied log index that wrote
/// something, so after a crash the engine itself says where to resume applying.
extension StorageEngine {
    /// Runs `body` like `transaction`, reading `overlay` (writes proposed but not yet applied)
    /// over the engine's state, and returns its writes instead of committing them. A leader
    /// evaluates a command this way and replicates the writes; every replica then applies them
    /// with ``apply(_:sequence:nowMillis:)``.
    public func speculate<R>(
        nowMillis: UInt64, overlay: [[UInt8]: KeyWrite], overlayHidesEngine: Bool = false,
        _ body: (inout StorageTransaction) throws -> R
    ) throws -> (result: R, writes: [[UInt8]: KeyWrite]) {
        condition.lock()
        defer { condition.unlock() }
        try checkWritableLocked()
        var transaction = StorageTransaction(
            engine: self, nowMillis: nowMillis, overlay: overlay,
            overlayHidesEngine: overlayHidesEngine)
        let result = try body(&transaction)
        return (result, transaction.writes)
    }

    /// Applies replicated `writes` as one atomic group under `sequence`, which must be above
    /// every earlier sequence. Returns nil when nothing changed on disk (deletes of absent keys).
    @discardableResult
    public func apply(
        _ writes: [[UInt8]: KeyWrite], sequence: UInt64, nowMillis: UInt64
    ) throws -> Commit? {
        try writing {
            precondition(
                sequence > lastSequence,
                "replicated apply at \(sequence) not above last \(lastSequence)")
            var transaction = StorageTransaction(engine: self, nowMillis: nowMillis)
            for (key, write) in writes {
                if case .put(let value, _, _) = write {
                    try checkSizes(keyCount: key.count, valueCount: value.count)
                }
                transaction.record(key, write)
            }
            return try commitLocked(transaction, nowMillis: nowMillis, sequence: sequence)
        }
    }

    /// Deletes every key under `sequence` (a replicated FLUSHALL).
    @discardableResult
    public func applyFlushAll(sequence: UInt64) throws -> Commit {
        try flushAll(sequence: sequence)
    }

    /// Replaces the whole state with `entries` under `sequence` (see
    /// ``restore(sequence:nowMillis:_:)``, which streams them instead).
    public func restore(
        _ entries: [(key: [UInt8], write: KeyWrite)], sequence: UInt64, nowMillis: UInt64
    ) throws {
        try restore(sequence: sequence, nowMillis: nowMillis) { (emit) throws in
            for entry in entries { try emit(entry.key, entry.write) }
        }
    }
}
