import CohortCore
import Foundation
import Testing

@testable import CohortStorage

@Suite struct StorageEngineBasicTests {
    func options(_ fsync: FsyncPolicy = .batch) -> StorageOptions {
        var options = StorageOptions()
        options.fsync = fsync
        return options
    }

    @Test func roundTripOverwriteAndDelete() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 1_000)
        defer { try? engine.close() }
        let first = try engine.transaction(nowMillis: 1_000) { transaction in
            try transaction.set(bytes("a"), value: bytes("1"))
        }
        #expect(first.commit?.sequence == 1)
        #expect(try engine.get(bytes("a"), nowMillis: 1_000)?.bytes == bytes("1"))
        _ = try engine.transaction(nowMillis: 1_001) { try $0.set(bytes("a"), value: bytes("2")) }
        let value = try engine.get(bytes("a"), nowMillis: 1_001)
        #expect(value?.bytes == bytes("2"))
        #expect(value?.metadata.sequence == 2)
        #expect(value?.metadata.origin == NodeID(1))
        let deleted = try engine.transaction(nowMillis: 1_002) { $0.delete(bytes("a")) }
        #expect(deleted.result)
        #expect(try engine.get(bytes("a"), nowMillis: 1_002) == nil)
        let missing = try engine.transaction(nowMillis: 1_003) { $0.delete(bytes("a")) }
        #expect(!missing.result)
        #expect(missing.commit == nil)
        #expect(engine.keyCount == 0)
    }

    @Test func transactionReadsItsOwnWritesAndThrowingWritesNothing() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(.none), nowMillis: 0)
        defer { try? engine.close() }
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try engine.transaction(nowMillis: 1) { transaction in
                try transaction.set(bytes("k"), value: bytes("v"))
                #expect(try transaction.get(bytes("k"))?.bytes == bytes("v"))
                throw Abort()
            }
        }
        #expect(try engine.get(bytes("k"), nowMillis: 1) == nil)
        // INCR-like read-modify-write.
        for _ in 0..<5 {
            _ = try engine.transaction(nowMillis: 2) { transaction in
                let current =
                    try transaction.get(bytes("counter")).map {
                        Int(String(decoding: $0.bytes, as: UTF8.self)) ?? 0
                    } ?? 0
                try transaction.set(bytes("counter"), value: bytes(String(current + 1)))
            }
        }
        #expect(try engine.get(bytes("counter"), nowMillis: 3)?.bytes == bytes("5"))
    }

    @Test func expiryHidesKeysAndSurvivesRestart() throws {
        let directory = TemporaryDirectory()
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options(), nowMillis: 1_000)
            _ = try engine.transaction(nowMillis: 1_000) { transaction in
                try transaction.set(bytes("short"), value: bytes("x"), expiresAtMillis: 1_500)
                try transaction.set(bytes("long"), value: bytes("y"), expiresAtMillis: 9_000)
                try transaction.set(bytes("forever"), value: bytes("z"))
            }
            #expect(try engine.get(bytes("short"), nowMillis: 1_499)?.bytes == bytes("x"))
            #expect(try engine.get(bytes("short"), nowMillis: 1_500) == nil)
            #expect(engine.scan(after: nil, count: 10, nowMillis: 2_000).keys.count == 2)
            #expect(engine.sweepExpired(nowMillis: 2_000, keysMax: 100) == 1)
            #expect(engine.keyCount == 2)
            let persisted = try engine.transaction(nowMillis: 2_000) {
                try $0.setExpiry(bytes("long"), expiresAtMillis: 0)
            }
            #expect(persisted.result)
            try engine.close()
        }
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 10_000)
        defer { try? engine.close() }
        #expect(try engine.get(bytes("short"), nowMillis: 10_000) == nil)
        #expect(try engine.get(bytes("long"), nowMillis: 10_000)?.bytes == bytes("y"))
        #expect(try engine.get(bytes("forever"), nowMillis: 10_000)?.bytes == bytes("z"))
        #expect(engine.keyCount == 2)
    }

    @Test func whenDurableCompletesAfterFsync() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: options(), nowMillis: 0)
        defer { try? engine.close() }
        let commit = try engine.transaction(nowMillis: 1) {
            try $0.set(bytes("k"), value: bytes("v"))
        }.commit
        let done = DispatchSemaphore(value: 0)
        let outcome = OutcomeBox()
        engine.whenDurable(try #require(commit)) { result in
            outcome.set(result)
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(outcome.isSuccess)
        #expect(engine.sequences.committed == 1 && engine.sequences.durable == 1)
        #expect(engine.statistics.fsyncCount >= 1)
        #expect(engine.statistics.durableSequence >= 1)
    }

    @Test func sizeLimitsAreEnforced() throws {
        let directory = TemporaryDirectory()
        var options = options(.none)
        options.keyBytesMax = 8
        options.valueBytesMax = 16
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 0)
        defer { try? engine.close() }
        #expect(throws: StorageError.keyTooLarge(bytes: 9, max: 8)) {
            try engine.transaction(nowMillis: 1) {
                try $0.set([UInt8](repeating: 1, count: 9), value: [])
            }
        }
        #expect(throws: StorageError.valueTooLarge(bytes: 17, max: 16)) {
            try engine.transaction(nowMillis: 1) {
                try $0.set(bytes("k"), value: [UInt8](repeating: 1, count: 17))
            }
        }
        _ = try engine.transaction(nowMillis: 1) {
            try $0.set([UInt8](repeating: 1, count: 8), value: [UInt8](repeating: 2, count: 16))
        }
        #expect(engine.keyCount == 1)
    }
}

/// A thread-safe holder for a durability result.
final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<Void, StorageError>?

    func set(_ result: Result<Void, StorageError>) {
        lock.lock()
        self.result = result
        lock.unlock()
    }

    var isSuccess: Bool {
        lock.lock()
        defer { lock.unlock() }
        if case .success = result { return true }
        return false
    }
}
