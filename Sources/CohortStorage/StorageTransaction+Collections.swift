import CohortCore

/// One collection (hash, set, list, sorted set) as a transaction sees it: the header's state
/// and where its elements live. Obtained from `StorageTransaction.collection(_:)` or
/// `newCollection(_:type:)`, changed through the transaction's element methods, and written back
/// with `saveCollection(_:)`.
public struct CollectionHandle: Sendable {
    /// The client's key.
    public let key: [UInt8]
    /// The collection's type (`ValueType.isCollection`).
    public let type: ValueType
    /// Version and element count.
    public internal(set) var header: CollectionHeader
    /// The key's expiry, absolute milliseconds since the epoch; 0 for none.
    public let expiresAtMillis: UInt64
    /// Every element key of this version starts with this.
    let prefix: [UInt8]
    /// Whether the collection was read from the key (false for a new one): emptied, it is
    /// deleted.
    let existed: Bool
    /// Whether an element was written or removed: saving then rewrites the header even when
    /// the count stayed, so that the key's version changes (WATCH sees every change).
    var changed = false

    /// The number of elements.
    public var count: Int { header.count }
}

extension StorageTransaction {
    /// The live collection at the client's `key`; nil when the key is absent or expired. When
    /// the key holds another type, returns its type instead (the caller answers WRONGTYPE).
    public func collection(_ key: [UInt8]) throws -> CollectionLookup {
        guard let stored = try get(engineKey: EngineKey.user(key)) else { return .absent }
        let type = stored.metadata.type
        guard type.isCollection else { return .otherType(type) }
        guard let header = CollectionHeader(decoding: stored.bytes) else {
            throw StorageError.corrupt(
                file: "collection header", offset: 0,
                reason: "undecodable \(type) header of \(stored.bytes.count) bytes")
        }
        return .found(
            CollectionHandle(
                key: key, type: type, header: header,
                expiresAtMillis: stored.metadata.expiresAtMillis,
                prefix: EngineKey.elementPrefix(of: key, version: header.version), existed: true))
    }

    /// A new, empty collection of `type` at the client's `key`, under a version above every
    /// version the engine holds, the overlay names or this transaction handed out. Nothing is
    /// written until `saveCollection` (and then only if it has elements).
    public mutating func newCollection(_ key: [UInt8], type: ValueType) -> CollectionHandle {
        precondition(type.isCollection, "\(type) is not a collection type")
        var high = max(engine.collectionVersionHigh, versionsHandedOut)
        if !overlay.isEmpty {
            for overlayKey in overlay.keys where EngineKey.isInternal(overlayKey) {
                if let parsed = EngineKey.parseElement(overlayKey) {
                    high = max(high, parsed.version)
                }
            }
        }
        let version = high + 1
        versionsHandedOut = version
        return CollectionHandle(
            key: key, type: type, header: CollectionHeader(version: version, count: 0),
            expiresAtMillis: 0, prefix: EngineKey.elementPrefix(of: key, version: version),
            existed: false)
    }

    /// The value of `element` in `collection`; nil when it has no such element.
    public func element(_ element: [UInt8], of collection: CollectionHandle) throws -> [UInt8]? {
        try get(engineKey: EngineKey.element(element, prefix: collection.prefix))?.bytes
    }

    /// Whether `collection` has `element`, without reading its value.
    public func hasElement(_ element: [UInt8], of collection: CollectionHandle) -> Bool {
        contains(engineKey: EngineKey.element(element, prefix: collection.prefix))
    }

    /// Sets `element` of `collection` to `value`. Returns true when the element is new.
    /// Throws when the element key or the value is over the engine's limits.
    /// Not `counted`, the element is bookkeeping that the count leaves out (a sorted set's
    /// score-order entries).
    @discardableResult
    public mutating func putElement(
        _ element: [UInt8], value: [UInt8], in collection: inout CollectionHandle,
        counted: Bool = true
    ) throws -> Bool {
        let key = EngineKey.element(element, prefix: collection.prefix)
        let isNew = !contains(engineKey: key)
        try set(engineKey: key, value: value, type: .element, expiresAtMillis: 0)
        if isNew && counted { collection.header.count += 1 }
        collection.changed = true
        return isNew
    }

    /// Removes `element` from `collection`. Returns true when it was there. Not `counted`, as
    /// for `putElement`.
    @discardableResult
    public mutating func removeElement(
        _ element: [UInt8], from collection: inout CollectionHandle, counted: Bool = true
    ) -> Bool {
        let removed = delete(engineKey: EngineKey.element(element, prefix: collection.prefix))
        if removed {
            if counted { collection.header.count -= 1 }
            collection.changed = true
        }
        return removed
    }

    /// Writes `collection`'s header back: a collection left without elements is deleted (as
    /// Redis deletes an emptied key), one with a changed element is rewritten with its expiry.
    public mutating func saveCollection(_ collection: CollectionHandle) throws {
        guard collection.header.count > 0 else {
            if collection.existed { delete(collection.key) }
            return
        }
        guard collection.changed else { return }
        try set(
            engineKey: EngineKey.user(collection.key), value: collection.header.encoded,
            type: collection.type, expiresAtMillis: collection.expiresAtMillis)
    }

    /// An element of `collection` and its value drawn at random in O(log n) (see
    /// `OrderedIndex.randomSlot`), or nil when the draw did not succeed: the caller then picks
    /// from all the elements. Elements are drawn from the engine's state: one this transaction
    /// or the overlay removed is drawn again, one they added is not drawn (a pick can miss
    /// elements written since the last apply; uniform over the others). `draw(n)` must return a
    /// uniform integer in `0..<n`.
    public func randomElement(
        of collection: CollectionHandle, draw: (Int) -> Int
    ) throws -> (element: [UInt8], value: [UInt8])? {
        guard !overlayHidesEngine else { return nil }
        let prefix = collection.prefix
        let end = EngineKey.prefixEnd(prefix)
        for _ in 0..<Self.randomElementDrawsMax {
            guard
                let (key, slot) = engine.index.randomSlot(
                    from: prefix, below: end, attemptsMax: Self.randomElementAttemptsMax,
                    draw: draw)
            else { return nil }
            let value: [UInt8]?
            if pendingWrite(key) != nil {
                value = try get(engineKey: key)?.bytes
            } else {
                value = try engine.readLocked(slot: slot, key: key, nowMillis: nowMillis)?.bytes
            }
            guard let value else { continue }
            return (Array(key[prefix.count...]), value)
        }
        return nil
    }

    /// Draws of `randomElement` before it gives up (each draws again when it lands on an
    /// element removed by a pending write).
    static let randomElementDrawsMax = 8
    /// Tree descents per draw (each accepted with the product of its nodes' fill).
    static let randomElementAttemptsMax = 64

    /// Calls `body` with each element of `collection` and its value, in element order (byte
    /// order), starting after `cursor` (an element; from the first when nil), until `body`
    /// returns false. Sees this transaction's writes and the overlay over the engine's state.
    public func forEachElement(
        of collection: CollectionHandle, after cursor: [UInt8]? = nil,
        _ body: (_ element: [UInt8], _ value: [UInt8]) throws -> Bool
    ) throws {
        try walkElements(of: collection, after: cursor, namingElements: true, body)
    }

    /// `forEachElement`; without `namingElements` the body gets an empty element (a list
    /// read wants the values alone, and copying each element's bytes cost a tenth of LRANGE).
    func walkElements(
        of collection: CollectionHandle, after cursor: [UInt8]?, namingElements: Bool,
        _ body: (_ element: [UInt8], _ value: [UInt8]) throws -> Bool
    ) throws {
        let prefix = collection.prefix
        let start = cursor.map { EngineKey.element($0, prefix: prefix) } ?? prefix
        // Writes not in the engine yet (this transaction's, then the overlay's), in key order.
        var pending: [[UInt8]: KeyWrite] = [:]
        for (key, write) in overlay where EngineKey.hasPrefix(key, prefix) {
            if OrderedIndex.compare(key, start) > 0 { pending[key] = write }
        }
        if !isEmpty {
            for (key, write) in writes where EngineKey.hasPrefix(key, prefix) {
                if OrderedIndex.compare(key, start) > 0 { pending[key] = write }
            }
        }
        let pendingKeys = pending.keys.sorted { OrderedIndex.compare($0, $1) < 0 }
        var nextPending = 0
        let dropped = prefix.count
        // Emits pending keys before `limit` (all when nil); false when `body` stopped.
        func emitPending(before limit: [UInt8]?) throws -> Bool {
            while nextPending < pendingKeys.count {
                let key = pendingKeys[nextPending]
                if let limit, OrderedIndex.compare(key, limit) >= 0 { break }
                nextPending += 1
                if case .put(let value, _, _) = pending[key]! {
                    if try !body(namingElements ? Array(key[dropped...]) : [], value) {
                        return false
                    }
                }
            }
            return true
        }
        if !overlayHidesEngine {
            var iterator = engine.index.makeIterator(after: start)
            while let slot = iterator.nextSlotOnly(),
                slot.withKey({ EngineKey.hasPrefix($0, prefix) })
            {
                // The key is copied out only when pending writes need comparing with it.
                if nextPending < pendingKeys.count {
                    let key = slot.key
                    guard try emitPending(before: key) else { return }
                    if nextPending < pendingKeys.count && pendingKeys[nextPending] == key {
                        continue  // superseded by a pending write, emitted with the pending ones
                    }
                }
                guard let value = try engine.readLocked(slot: slot, nowMillis: nowMillis) else {
                    continue
                }
                let element =
                    namingElements ? slot.withKey { Array($0[dropped...]) } : []
                if try !body(element, value.bytes) { return }
            }
        }
        _ = try emitPending(before: nil)
    }
}

/// What a key holds, for commands on collections.
public enum CollectionLookup: Sendable {
    /// Nothing (absent or expired).
    case absent
    /// A collection.
    case found(CollectionHandle)
    /// A value of another type.
    case otherType(ValueType)
}

extension StorageTransaction {
    /// Copies the client's `source` key, whatever it holds, to `destination` (replacing what is
    /// there), with its time to live: a string's value, or a collection's elements under a new
    /// version (RENAME, COPY). Returns false when `source` is absent.
    public mutating func copyKey(_ source: [UInt8], to destination: [UInt8]) throws -> Bool {
        guard let stored = try get(source) else { return false }
        let type = stored.metadata.type
        let expiresAtMillis = stored.metadata.expiresAtMillis
        guard type.isCollection else {
            try set(destination, value: stored.bytes, type: type, expiresAtMillis: expiresAtMillis)
            return true
        }
        guard case .found(let original) = try collection(source) else { return false }
        var elements: [(element: [UInt8], value: [UInt8])] = []
        try forEachElement(of: original) { element, value in
            elements.append((element, value))
            return true
        }
        let fresh = newCollection(destination, type: type)
        var copy = CollectionHandle(
            key: destination, type: type, header: fresh.header, expiresAtMillis: expiresAtMillis,
            prefix: fresh.prefix, existed: false)
        // The elements as they are (a list's positions and a sorted set's score-order
        // entries included), so the count and the list's head carry over.
        copy.header.count = original.header.count
        copy.header.head = original.header.head
        copy.changed = true
        for (element, value) in elements {
            try set(
                engineKey: EngineKey.element(element, prefix: copy.prefix), value: value,
                type: .element, expiresAtMillis: 0)
        }
        try saveCollection(copy)
        return true
    }
}
