import CohortCore

/// The reads and buffered writes of one `StorageEngine.transaction` body. Valid only inside the
/// body (it reads the engine under the lock the body runs with); do not let it escape.
public struct StorageTransaction {
    /// The time the transaction judges expiry by.
    public let nowMillis: UInt64
    let engine: StorageEngine
    /// The transaction's only write while it has written one key (most write one): a
    /// dictionary costs an allocation and a hash of the key on every SET.
    private var onlyWrite: (key: [UInt8], write: KeyWrite)?
    /// The transaction's writes while it has written two to `fewWritesMax` keys (a collection
    /// command writes an element and the header): searched in order, which beats hashing and
    /// growing a dictionary (4% and 3% of an LPUSH server's time). Then `onlyWrite` is nil.
    private var fewWrites: [(key: [UInt8], write: KeyWrite)] = []
    /// The transaction's writes once it has written more keys; then the others are empty.
    private var manyWrites: [[UInt8]: KeyWrite] = [:]
    static let fewWritesMax = 8
    /// Writes accepted but not yet in the engine (a replication leader's proposals in flight),
    /// read before the engine's state: see `StorageEngine.speculate`.
    let overlay: [[UInt8]: KeyWrite]
    /// A FLUSHALL is in the overlay: keys it does not name are absent.
    let overlayHidesEngine: Bool
    /// The highest collection version this transaction handed out (see `newCollection`).
    var versionsHandedOut: UInt64 = 0

    init(
        engine: StorageEngine, nowMillis: UInt64, overlay: [[UInt8]: KeyWrite] = [:],
        overlayHidesEngine: Bool = false
    ) {
        self.engine = engine
        self.nowMillis = nowMillis
        self.overlay = overlay
        self.overlayHidesEngine = overlayHidesEngine
    }

    /// The transaction's writes by key; the last write to a key wins. Committed in key order.
    var writes: [[UInt8]: KeyWrite] {
        if let onlyWrite { return [onlyWrite.key: onlyWrite.write] }
        if !fewWrites.isEmpty {
            return Dictionary(fewWrites.lazy.map { ($0.key, $0.write) }) { _, later in later }
        }
        return manyWrites
    }

    /// Whether the transaction has written nothing.
    var isEmpty: Bool { onlyWrite == nil && fewWrites.isEmpty && manyWrites.isEmpty }

    /// The writes in key order, which makes the file contents independent of dictionary order.
    func writesInKeyOrder() -> [(key: [UInt8], write: KeyWrite)] {
        if let onlyWrite { return [onlyWrite] }
        if !fewWrites.isEmpty {
            return fewWrites.sorted { OrderedIndex.compare($0.key, $1.key) < 0 }
        }
        return manyWrites.sorted { OrderedIndex.compare($0.key, $1.key) < 0 }
            .map { (key: $0.key, write: $0.value) }
    }

    /// This transaction's own write of `key`.
    func ownWrite(_ key: [UInt8]) -> KeyWrite? {
        if let onlyWrite { return onlyWrite.key == key ? onlyWrite.write : nil }
        if !fewWrites.isEmpty { return fewWrites.first { $0.key == key }?.write }
        return manyWrites.isEmpty ? nil : manyWrites[key]
    }

    /// Records `write` as the new state of `key`; nil forgets an earlier write of it.
    mutating func record(_ key: [UInt8], _ write: KeyWrite?) {
        if fewWrites.isEmpty && manyWrites.isEmpty
            && (onlyWrite == nil || onlyWrite?.key == key)
        {
            onlyWrite = write.map { (key, $0) }
            return
        }
        if !manyWrites.isEmpty {
            manyWrites[key] = write
            return
        }
        if let onlyWrite {
            fewWrites.reserveCapacity(4)
            fewWrites.append(onlyWrite)
            self.onlyWrite = nil
        }
        if let position = fewWrites.firstIndex(where: { $0.key == key }) {
            if let write {
                fewWrites[position].write = write
            } else {
                fewWrites.remove(at: position)
            }
            return
        }
        guard let write else { return }
        if fewWrites.count < Self.fewWritesMax {
            fewWrites.append((key, write))
            return
        }
        for (earlier, earlierWrite) in fewWrites { manyWrites[earlier] = earlierWrite }
        fewWrites.removeAll()
        manyWrites[key] = write
    }

    /// This transaction's own write of `key`, else the overlay's.
    func pendingWrite(_ key: [UInt8]) -> KeyWrite? {
        ownWrite(key) ?? (overlay.isEmpty ? nil : overlay[key])
    }

    /// The live value of the client's `key` as this transaction sees it: its own writes first,
    /// then every earlier commit. Nil when absent, deleted or expired.
    public func get(_ key: [UInt8]) throws -> StoredValue? {
        try get(engineKey: EngineKey.user(key))
    }

    /// `get` of an engine key (see `EngineKey`).
    func get(engineKey key: [UInt8]) throws -> StoredValue? {
        if let write = pendingWrite(key) {
            switch write {
            case .put(let value, let type, let expiresAtMillis):
                let metadata = VersionMetadata(
                    sequence: 0, timestamp: .zero, origin: engine.options.origin,
                    isTombstone: false, type: type, expiresAtMillis: expiresAtMillis)
                return metadata.isExpired(nowMillis: nowMillis)
                    ? nil : StoredValue(bytes: value, metadata: metadata)
            case .delete:
                return nil
            }
        }
        if overlayHidesEngine { return nil }
        return try engine.readLocked(key, nowMillis: nowMillis)
    }

    /// True when the client's `key` has a live value, without reading it.
    public func contains(_ key: [UInt8]) -> Bool {
        contains(engineKey: EngineKey.user(key))
    }

    /// `contains` of an engine key.
    func contains(engineKey key: [UInt8]) -> Bool {
        if let write = pendingWrite(key) {
            switch write {
            case .put(_, _, let expiresAtMillis):
                return expiresAtMillis == 0 || expiresAtMillis > nowMillis
            case .delete:
                return false
            }
        }
        if overlayHidesEngine { return false }
        return engine.metadataLocked(key, nowMillis: nowMillis) != nil
    }

    /// The metadata of the live version of the client's `key`, without reading its value.
    public func metadata(_ key: [UInt8]) -> VersionMetadata? {
        metadata(engineKey: EngineKey.user(key))
    }

    /// `metadata` of an engine key.
    func metadata(engineKey key: [UInt8]) -> VersionMetadata? {
        if let write = pendingWrite(key) {
            switch write {
            case .put(_, let type, let expiresAtMillis):
                guard expiresAtMillis == 0 || expiresAtMillis > nowMillis else { return nil }
                return VersionMetadata(
                    sequence: 0, timestamp: .zero, origin: engine.options.origin,
                    isTombstone: false, type: type, expiresAtMillis: expiresAtMillis)
            case .delete:
                return nil
            }
        }
        if overlayHidesEngine { return nil }
        return engine.metadataLocked(key, nowMillis: nowMillis)
    }

    /// Writes `value` under the client's `key`, replacing any version (a collection there
    /// included: its elements become orphans). `expiresAtMillis` is absolute milliseconds since
    /// the epoch, 0 for none. Throws when the key or value is over the limit.
    public mutating func set(
        _ key: [UInt8], value: [UInt8], type: ValueType = .string, expiresAtMillis: UInt64 = 0
    ) throws {
        try set(
            engineKey: EngineKey.user(key), value: value, type: type,
            expiresAtMillis: expiresAtMillis)
    }

    /// `set` of an engine key.
    mutating func set(
        engineKey key: [UInt8], value: [UInt8], type: ValueType, expiresAtMillis: UInt64
    ) throws {
        try engine.checkSizes(keyCount: key.count, valueCount: value.count)
        record(key, .put(value: value, type: type, expiresAtMillis: expiresAtMillis))
    }

    /// Deletes the client's `key` (a collection's elements become orphans). Returns true when
    /// a live value existed.
    @discardableResult
    public mutating func delete(_ key: [UInt8]) -> Bool {
        delete(engineKey: EngineKey.user(key))
    }

    /// `delete` of an engine key.
    @discardableResult
    mutating func delete(engineKey key: [UInt8]) -> Bool {
        let existed = contains(engineKey: key)
        // A deletion marker is needed only if the index holds some version (even an expired
        // one); otherwise every older version on disk is already superseded.
        record(key, engine.indexContainsLocked(key) || overlay[key] != nil ? .delete : nil)
        return existed
    }

    /// Sets (or with 0 removes) the expiry of the client's live `key` by rewriting its value
    /// (a collection's header) with the new expiry. Returns false when the key has no live
    /// value.
    @discardableResult
    public mutating func setExpiry(_ key: [UInt8], expiresAtMillis: UInt64) throws -> Bool {
        let key = EngineKey.user(key)
        guard let current = try get(engineKey: key) else { return false }
        record(
            key,
            .put(
                value: current.bytes, type: current.metadata.type,
                expiresAtMillis: expiresAtMillis))
        return true
    }
}
