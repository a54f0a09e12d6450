import CohortCore
import Foundation
import Testing

@testable import CohortStorage

/// Collections in the engine: the key layout, element records, versions, orphans, the
/// migration of directories written before the layout, and the overlay a leader reads through.
@Suite struct CollectionStorageTests {
    func options() -> StorageOptions {
        var options = StorageOptions()
        options.fsync = .batch
        options.compactsAutomatically = false
        return options
    }

    func open(_ directory: TemporaryDirectory, now: UInt64 = 1_000) throws -> StorageEngine {
        try StorageEngine.open(directory: directory.path, options: options(), nowMillis: now)
    }

    /// Adds `elements` (element → value) to the collection of `type` at `key`, creating it.
    @discardableResult
    func put(
        _ engine: StorageEngine, _ key: String, _ elements: [String: String],
        type: ValueType = .hash, now: UInt64 = 1_000
    ) throws -> Int {
        try engine.transaction(nowMillis: now) { txn in
            var handle: CollectionHandle
            switch try txn.collection(bytes(key)) {
            case .found(let found): handle = found
            default: handle = txn.newCollection(bytes(key), type: type)
            }
            var added = 0
            for (element, value) in elements.sorted(by: { $0.key < $1.key })
            where try txn.putElement(bytes(element), value: bytes(value), in: &handle) {
                added += 1
            }
            try txn.saveCollection(handle)
            return added
        }.result
    }

    /// The collection at `key` as element → value; nil when there is none.
    func contents(_ engine: StorageEngine, _ key: String, now: UInt64 = 1_000) throws -> [String:
        String]?
    {
        try engine.read(nowMillis: now) { txn in
            guard case .found(let handle) = try txn.collection(bytes(key)) else { return nil }
            var all: [String: String] = [:]
            try txn.forEachElement(of: handle) { element, value in
                all[String(decoding: element, as: UTF8.self)] = String(
                    decoding: value, as: UTF8.self)
                return true
            }
            #expect(all.count == handle.count, "the header's count matches the elements")
            return all
        }
    }

    @Test func engineKeysKeepClientKeysAndElementsApart() {
        #expect(EngineKey.user(bytes("a")) == bytes("a"))
        #expect(EngineKey.user([0]) == [0, 1, 0])
        #expect(EngineKey.user([0, 0, 7]) == [0, 1, 0, 0, 7])
        for key in [bytes("a"), [0], [0, 0, 7], [0, 1], []] as [[UInt8]] {
            #expect(EngineKey.userKey(EngineKey.user(key)) == key)
            #expect(!EngineKey.isInternal(EngineKey.user(key)))
        }
        let prefix = EngineKey.elementPrefix(of: [0, 0, 1], version: 0x0102)
        let element = EngineKey.element(bytes("field"), prefix: prefix)
        #expect(EngineKey.isInternal(element))
        #expect(EngineKey.userKey(element) == nil)
        let parsed = EngineKey.parseElement(element)
        #expect(parsed.map { Array($0.key) } == [0, 0, 1])
        #expect(parsed?.version == 0x0102)
        #expect(parsed.map { Array($0.element) } == bytes("field"))
        // Every internal key sorts before the scan start, every client key after it.
        #expect(OrderedIndex.compare(element, EngineKey.afterInternalKeys) < 0)
        #expect(OrderedIndex.compare(EngineKey.user([0]), EngineKey.afterInternalKeys) > 0)
        // One collection's prefix is never the prefix of another key's elements.
        let other = EngineKey.elementPrefix(of: [0, 0, 1, 0], version: 0x0102)
        #expect(!EngineKey.hasPrefix(EngineKey.element([], prefix: other), prefix))
    }

    @Test func elementsAreRecordsThatSurviveARestartAndAreNotKeys() throws {
        let directory = TemporaryDirectory()
        var engine = try open(directory)
        #expect(try put(engine, "h", ["a": "1", "b": "2", "c": "3"]) == 3)
        #expect(try put(engine, "h", ["a": "9", "d": "4"]) == 1)
        #expect(try contents(engine, "h") == ["a": "9", "b": "2", "c": "3", "d": "4"])
        #expect(engine.keyCount == 1, "elements are not client keys")
        #expect(engine.scan(after: nil, count: 100, nowMillis: 1_000).keys == [bytes("h")])
        #expect(try engine.metadata(bytes("h"), nowMillis: 1_000)?.type == .hash)
        try engine.close()
        engine = try open(directory)
        defer { try? engine.close() }
        #expect(try contents(engine, "h") == ["a": "9", "b": "2", "c": "3", "d": "4"])
        #expect(engine.keyCount == 1)
        #expect(engine.collectionVersionHigh >= 1)
    }

    @Test func aDeletedCollectionsElementsNeverComeBack() throws {
        let directory = TemporaryDirectory()
        var engine = try open(directory)
        try put(engine, "h", ["old1": "x", "old2": "y"])
        _ = try engine.transaction(nowMillis: 1_000) { $0.delete(bytes("h")) }
        #expect(try contents(engine, "h") == nil)
        try put(engine, "h", ["new": "z"])
        #expect(try contents(engine, "h") == ["new": "z"])
        // Replaced by a string and back: still only the newest collection's elements.
        _ = try engine.transaction(nowMillis: 1_000) { try $0.set(bytes("h"), value: bytes("s")) }
        try put(engine, "h", ["newest": "w"])
        #expect(try contents(engine, "h") == ["newest": "w"])
        try engine.close()
        // After a restart the orphans are in the index again, and the version high-water mark
        // is above them, so a collection created now cannot adopt them.
        engine = try open(directory)
        defer { try? engine.close() }
        #expect(try contents(engine, "h") == ["newest": "w"])
        _ = try engine.transaction(nowMillis: 1_000) { $0.delete(bytes("h")) }
        try put(engine, "h", ["fresh": "v"])
        #expect(try contents(engine, "h") == ["fresh": "v"])
    }

    @Test func theSweepRemovesOrphanedElementsFromTheIndex() throws {
        let directory = TemporaryDirectory()
        let engine = try open(directory)
        defer { try? engine.close() }
        try put(engine, "gone", Dictionary(uniqueKeysWithValues: (0..<50).map { ("f\($0)", "v") }))
        try put(engine, "kept", ["a": "1", "b": "2"])
        try put(engine, "expiring", ["x": "1"])
        _ = try engine.transaction(nowMillis: 1_000) { txn in
            txn.delete(bytes("gone"))
            try txn.setExpiry(bytes("expiring"), expiresAtMillis: 1_500)
        }
        #expect(engine.index.internalCount == 53)
        var removed = 0
        for _ in 0..<10 { removed += engine.sweepExpired(nowMillis: 2_000, keysMax: 16) }
        // 50 orphans, the expired header and its one element.
        #expect(removed == 52)
        #expect(engine.index.internalCount == 2)
        #expect(try contents(engine, "kept", now: 2_000) == ["a": "1", "b": "2"])
        #expect(try contents(engine, "expiring", now: 2_000) == nil)
    }

    @Test func clientKeysStartingWithZeroAreEscapedAndListed() throws {
        let directory = TemporaryDirectory()
        let engine = try open(directory)
        defer { try? engine.close() }
        let odd: [[UInt8]] = [[0], [0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 1]]
        _ = try engine.transaction(nowMillis: 1_000) { txn in
            for key in odd { try txn.set(key, value: key + [9]) }
        }
        try put(engine, "h", ["f": "v"])
        for key in odd { #expect(try engine.get(key, nowMillis: 1_000)?.bytes == key + [9]) }
        let listed = engine.scan(after: nil, count: 100, nowMillis: 1_000).keys
        #expect(Set(listed) == Set(odd + [bytes("h")]))
        #expect(engine.keyCount == odd.count + 1)
        // Paging resumes after a client key, never inside the internal keys.
        var paged: [[UInt8]] = []
        var cursor: [UInt8]?
        repeat {
            let page = engine.scan(after: cursor, count: 1, nowMillis: 1_000)
            paged += page.keys
            cursor = page.next
        } while cursor != nil
        #expect(paged == listed)
    }

    @Test func aDirectoryFromBeforeTheLayoutIsMigratedAtOpen() throws {
        let directory = TemporaryDirectory()
        // Write keys the old way: raw, with no layout marker.
        var engine = try open(directory)
        _ = try engine.transaction(nowMillis: 1_000) { txn in
            try txn.set(engineKey: [0], value: bytes("zero"), type: .string, expiresAtMillis: 0)
            try txn.set(
                engineKey: [0, 1, 0], value: bytes("one"), type: .string, expiresAtMillis: 0)
            try txn.set(
                engineKey: bytes("plain"), value: bytes("p"), type: .string, expiresAtMillis: 0)
        }
        try engine.close()
        try FileManager.default.removeItem(
            atPath: directory.path + "/" + StorageEngine.keyLayoutMarkerName)
        engine = try open(directory)
        #expect(try engine.get([0], nowMillis: 1_000)?.bytes == bytes("zero"))
        #expect(try engine.get([0, 1, 0], nowMillis: 1_000)?.bytes == bytes("one"))
        #expect(try engine.get(bytes("plain"), nowMillis: 1_000)?.bytes == bytes("p"))
        #expect(engine.keyCount == 3)
        try engine.close()
        // Migrated once: the marker is there and a second open changes nothing.
        #expect(
            FileManager.default.fileExists(
                atPath: directory.path + "/" + StorageEngine.keyLayoutMarkerName))
        engine = try open(directory)
        defer { try? engine.close() }
        #expect(try engine.get([0], nowMillis: 1_000)?.bytes == bytes("zero"))
        #expect(try engine.get([0, 1, 0], nowMillis: 1_000)?.bytes == bytes("one"))
        #expect(engine.keyCount == 3)
    }

    /// A leader evaluates commands over writes proposed but not applied (the overlay): element
    /// reads and iteration see them, deletions included, and a new collection's version is
    /// above the overlay's.
    @Test func speculationReadsElementsThroughTheOverlay() throws {
        let directory = TemporaryDirectory()
        let engine = try open(directory)
        defer { try? engine.close() }
        try put(engine, "h", ["a": "1", "b": "2", "c": "3"])
        let first = try engine.speculate(nowMillis: 1_000, overlay: [:]) { txn in
            guard case .found(var handle) = try txn.collection(bytes("h")) else {
                Issue.record("no collection")
                return
            }
            txn.removeElement(bytes("b"), from: &handle)
            try txn.putElement(bytes("bb"), value: bytes("new"), in: &handle)
            try txn.putElement(bytes("c"), value: bytes("33"), in: &handle)
            try txn.saveCollection(handle)
        }
        let seen = try engine.speculate(nowMillis: 1_000, overlay: first.writes) { txn in
            guard case .found(let handle) = try txn.collection(bytes("h")) else {
                return [String]()
            }
            var seen: [String] = []
            try txn.forEachElement(of: handle) { element, value in
                seen.append(String(decoding: element + [61] + value, as: UTF8.self))
                return true
            }
            return seen
        }.result
        #expect(seen == ["a=1", "bb=new", "c=33"])
        // A collection deleted and created again in the overlay gets a higher version.
        let recreated = try engine.speculate(nowMillis: 1_000, overlay: first.writes) { txn in
            txn.delete(bytes("h"))
            return txn.newCollection(bytes("h"), type: .set).header.version
        }.result
        let current = try engine.read(nowMillis: 1_000) { txn -> UInt64 in
            guard case .found(let handle) = try txn.collection(bytes("h")) else { return 0 }
            return handle.header.version
        }
        #expect(recreated > current)
        // Applying the speculated writes on a replica gives the same state.
        try engine.apply(first.writes, sequence: engine.sequences.committed + 1, nowMillis: 1_000)
        #expect(try contents(engine, "h") == ["a": "1", "bb": "new", "c": "33"])
    }
}
