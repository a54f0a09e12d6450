import CohortCore
import Foundation
import Testing

@testable import CohortStorage

@Suite struct StorageConcurrencyTests {
    @Test func groupCommitSharesFsyncsAmongConcurrentWriters() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: StorageOptions(), nowMillis: 0)
        defer { try? engine.close() }
        // A disk whose fsync takes a millisecond, so that writers overlap even on tmpfs.
        engine.condition.lock()
        engine.fsyncDelayMicrosForTesting = 1_000
        engine.condition.unlock()
        let writers = 8
        let commitsPerWriter = 40
        let failures = OutcomeCounter()
        // Threads rather than concurrentPerform: writers block on durability, and
        // concurrentPerform would run only as many as there are cores.
        let finished = DispatchGroup()
        for writer in 0..<writers {
            finished.enter()
            Thread {
                defer { finished.leave() }
                for number in 0..<commitsPerWriter {
                    do {
                        let commit = try engine.transaction(nowMillis: 1) {
                            try $0.set(bytes("w\(writer)-\(number)"), value: bytes("v"))
                        }.commit
                        let done = DispatchSemaphore(value: 0)
                        engine.whenDurable(commit!) { result in
                            if case .failure = result { failures.increment() }
                            done.signal()
                        }
                        done.wait()
                    } catch {
                        failures.increment()
                    }
                }
            }.start()
        }
        #expect(finished.wait(timeout: .now() + 60) == .success)
        let statistics = engine.statistics
        #expect(failures.value == 0)
        #expect(statistics.commitsTotal == writers * commitsPerWriter)
        #expect(statistics.durableSequence == statistics.lastSequence)
        #expect(statistics.fsyncCount < statistics.commitsTotal)
    }

    @Test func snapshotStaysStableWhileWritesAndCompactionContinue() throws {
        let directory = TemporaryDirectory()
        var options = StorageOptions()
        options.fsync = .none
        options.segmentBytesMax = 4_096
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 0)
        defer { try? engine.close() }
        for number in 0..<200 {
            _ = try engine.transaction(nowMillis: 1) {
                try $0.set(bytes(String(format: "k%04d", number)), value: bytes("old-\(number)"))
            }
        }
        let snapshot = engine.snapshot(nowMillis: 1)
        for number in 0..<200 {
            _ = try engine.transaction(nowMillis: 2) { transaction in
                if number % 2 == 0 {
                    transaction.delete(bytes(String(format: "k%04d", number)))
                } else {
                    try transaction.set(
                        bytes(String(format: "k%04d", number)), value: bytes("new-\(number)"))
                }
                try transaction.set(bytes("extra-\(number)"), value: bytes("e"))
            }
        }
        let report = try engine.compact(nowMillis: 2)
        #expect(!report.segmentsCompacted.isEmpty)
        var seen = 0
        for (key, value) in snapshot {
            #expect(key == bytes(String(format: "k%04d", seen)))
            #expect(value.bytes == bytes("old-\(seen)"))
            seen += 1
        }
        #expect(seen == 200)
        #expect(snapshot.readErrors.isEmpty)
        #expect(try engine.get(bytes("k0001"), nowMillis: 2)?.bytes == bytes("new-1"))
        #expect(try engine.get(bytes("k0000"), nowMillis: 2) == nil)
    }

    @Test func scanPagingVisitsEveryKeyExactlyOnce() throws {
        let directory = TemporaryDirectory()
        var options = StorageOptions()
        options.fsync = .none
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 0)
        defer { try? engine.close() }
        let keys = (0..<1_000).map { bytes("key:\($0 * 7919 % 1_000)") }
        _ = try engine.transaction(nowMillis: 1) { transaction in
            for key in keys { try transaction.set(key, value: bytes("v")) }
            transaction.delete(keys[0])
            try transaction.set(keys[1], value: bytes("v"), expiresAtMillis: 5)
        }
        var visited: [[UInt8]] = []
        var cursor: [UInt8]?
        var pages = 0
        repeat {
            let page = engine.scan(after: cursor, count: 7, nowMillis: 10)
            visited += page.keys
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 1_000
        #expect(cursor == nil)
        let expected = keys.dropFirst(2).sorted { OrderedIndex.compare($0, $1) < 0 }
        #expect(visited == expected)
        let matching = engine.scan(after: nil, count: 2_000, nowMillis: 10) {
            $0.last == UInt8(ascii: "9")
        }
        #expect(matching.keys == expected.filter { $0.last == UInt8(ascii: "9") })
        #expect(matching.keys.count == 99 && matching.next == nil)
    }

    @Test func compactionReclaimsSpaceWhileServingAndNothingResurrects() throws {
        let directory = TemporaryDirectory()
        var options = StorageOptions()
        options.fsync = .none
        options.segmentBytesMax = 8_192
        var expected: [String: String] = [:]
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options, nowMillis: 0)
            let value = String(repeating: "x", count: 100)
            for round in 0..<5 {
                for number in 0..<200 {
                    _ = try engine.transaction(nowMillis: 1) {
                        try $0.set(bytes("key-\(number)"), value: bytes("\(round)-\(value)"))
                    }
                    expected["key-\(number)"] = "\(round)-\(value)"
                }
            }
            for number in stride(from: 0, to: 200, by: 2) {
                _ = try engine.transaction(nowMillis: 1) { $0.delete(bytes("key-\(number)")) }
                expected["key-\(number)"] = nil
            }
            // Keys that expire act as deletions of their older versions.
            for number in stride(from: 1, to: 40, by: 2) {
                _ = try engine.transaction(nowMillis: 1) {
                    try $0.set(bytes("key-\(number)"), value: bytes("short"), expiresAtMillis: 50)
                }
                expected["key-\(number)"] = nil
            }
            let before = engine.statistics
            // A writer keeps going while compaction runs.
            let writer = Thread {
                for number in 0..<100 {
                    _ = try? engine.transaction(nowMillis: 1) {
                        try $0.set(bytes("live-\(number)"), value: bytes("\(number)"))
                    }
                }
            }
            writer.start()
            var rounds = 0
            while rounds < 10, engine.hasCompactionCandidate() {
                _ = try engine.compact(nowMillis: 100)
                rounds += 1
            }
            while writer.isExecuting || !writer.isFinished { usleep(1_000) }
            for number in 0..<100 { expected["live-\(number)"] = "\(number)" }
            let after = engine.statistics
            #expect(after.compactions > 0)
            #expect(after.diskBytes < before.diskBytes / 3)
            #expect(after.diskBytes <= after.liveBytes + 2 * options.segmentBytesMax)
            try check(engine, expected, nowMillis: 100)
            try engine.close()
        }
        try checkAfterRestart(directory, options, expected, nowMillis: 100)
    }

    /// Compaction moves index entries in batches and lets writers in between; a write or a
    /// deletion that lands between two batches must win over the copy of the older version.
    @Test func writesBetweenCompactionMoveBatchesWin() throws {
        let directory = TemporaryDirectory()
        var options = StorageOptions()
        options.fsync = .none
        options.segmentBytesMax = 64 << 10
        options.compactsAutomatically = false
        let keys = 512
        var expected: [String: String] = [:]
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options, nowMillis: 0)
            // All keys in one segment, sealed by a value too large to share it; then the even
            // keys are overwritten, so that one compaction run copies the 256 odd keys and
            // moves their index entries in 16 batches.
            for number in 0..<keys {
                _ = try engine.transaction(nowMillis: 1) {
                    try $0.set(bytes("key-\(number)"), value: bytes("r0-\(number)"))
                }
                expected["key-\(number)"] = "r0-\(number)"
            }
            let filler = [UInt8](repeating: 0x66, count: 70 << 10)
            _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("filler"), value: filler) }
            expected["filler"] = String(decoding: filler, as: UTF8.self)
            for number in stride(from: 0, to: keys, by: 2) {
                _ = try engine.transaction(nowMillis: 1) {
                    try $0.set(bytes("key-\(number)"), value: bytes("r1-\(number)"))
                }
                expected["key-\(number)"] = "r1-\(number)"
            }
            // At each pause, overwrite one odd key and delete another, from the end, which
            // the moves reach last (they follow the records' order): the first pauses change
            // keys whose moves are still to come.
            let pauses = OutcomeCounter()
            let pauseWrites = UnsafeSendableBox<[(String, String?)]>([])
            engine.condition.lock()
            engine.compactionMovesPerLock = 16
            engine.compactionPauseForTesting = {
                pauses.increment()
                let overwritten = "key-\(keys - 1 - 2 * pauses.value)"
                let deleted = "key-\(keys - 201 - 2 * pauses.value)"  // odd, too
                _ = try? engine.transaction(nowMillis: 1) {
                    try $0.set(bytes(overwritten), value: bytes("new"))
                }
                _ = try? engine.transaction(nowMillis: 1) { $0.delete(bytes(deleted)) }
                pauseWrites.value += [(overwritten, "new"), (deleted, nil)]
            }
            engine.condition.unlock()
            var rounds = 0
            while rounds < 100, engine.hasCompactionCandidate() {
                _ = try engine.compact(nowMillis: 1)
                rounds += 1
            }
            #expect(pauses.value > 3)
            for (key, value) in pauseWrites.value { expected[key] = value }
            try check(engine, expected, nowMillis: 1)
            try engine.close()
        }
        try checkAfterRestart(directory, options, expected, nowMillis: 1)
    }

    /// Reopens the engine: no corruption, and the same contents as before.
    func checkAfterRestart(
        _ directory: TemporaryDirectory, _ options: StorageOptions, _ expected: [String: String],
        nowMillis: UInt64
    ) throws {
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: nowMillis)
        defer { try? engine.close() }
        #expect(engine.recovery.corruptions.isEmpty)
        try check(engine, expected, nowMillis: nowMillis)
    }

    func check(_ engine: StorageEngine, _ expected: [String: String], nowMillis: UInt64) throws {
        let keys = engine.scan(after: nil, count: 10_000, nowMillis: nowMillis).keys
        #expect(Set(keys.map { String(decoding: $0, as: UTF8.self) }) == Set(expected.keys))
        for (key, value) in expected {
            #expect(try engine.get(bytes(key), nowMillis: nowMillis)?.bytes == bytes(value))
        }
    }
}

/// A value shared with a closure that runs on another thread while the test waits for it.
final class UnsafeSendableBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// A thread-safe counter.
final class OutcomeCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
