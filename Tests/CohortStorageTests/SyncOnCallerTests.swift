import CohortCore
import Dispatch
import Foundation
import Testing

@testable import CohortStorage

/// `StorageEngine.syncOnCaller`: the server's event loop fsyncs a turn's writes itself under
/// `.batch`, unless the group-commit thread is already at it.
@Suite struct SyncOnCallerTests {
    func set(_ engine: StorageEngine, _ key: String, _ value: String) throws -> Commit {
        try #require(
            try engine.transaction(nowMillis: 1) { try $0.set(bytes(key), value: bytes(value)) }
                .commit)
    }

    @Test func syncsOnTheCallerAndCompletesCoveredWaiters() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: StorageOptions(), nowMillis: 0)
        let first = try set(engine, "a", "1")
        let second = try set(engine, "b", "2")
        #expect(engine.sequences.durable < second.sequence)
        let fsyncsBefore = engine.statistics.fsyncCount
        let result = try #require(engine.syncOnCaller(through: first.sequence))
        #expect((try? result.get()) != nil)
        // One fsync covered both commits.
        #expect(engine.sequences.durable == second.sequence)
        #expect(engine.statistics.fsyncCount == fsyncsBefore + 1)
        // Already durable: answered without another fsync.
        #expect((try? engine.syncOnCaller(through: second.sequence)?.get()) != nil)
        #expect(engine.statistics.fsyncCount == fsyncsBefore + 1)

        // A crash now (no close) keeps both acknowledged writes.
        let crashed = directory.path + "-crash"
        try copyDirectory(directory.path, to: crashed)
        defer { try? FileManager.default.removeItem(atPath: crashed) }
        try engine.close()
        let recovered = try StorageEngine.open(
            directory: crashed, options: StorageOptions(), nowMillis: 2)
        defer { try? recovered.close() }
        #expect(try recovered.get(bytes("a"), nowMillis: 2)?.bytes == bytes("1"))
        #expect(try recovered.get(bytes("b"), nowMillis: 2)?.bytes == bytes("2"))
    }

    /// While the group-commit thread's fsync runs, the caller is told to wait for it instead
    /// (nil), and that fsync's waiter is answered by the thread.
    @Test(.timeLimit(.minutes(1)))
    func leavesTheFsyncToTheThreadWhenOneIsInFlight() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: StorageOptions(), nowMillis: 0)
        defer { try? engine.close() }
        engine.condition.lock()
        engine.fsyncDelayMicrosForTesting = 300_000
        engine.condition.unlock()
        let first = try set(engine, "a", "1")
        let done = DispatchSemaphore(value: 0)
        let outcome = OutcomeBox()
        engine.whenDurable(first) { result in
            outcome.set(result)
            done.signal()
        }
        // Wait until the thread's fsync is under way.
        var waited = 0
        while waited < 5_000 {
            engine.condition.lock()
            let inFlight = engine.syncInFlight
            engine.condition.unlock()
            if inFlight { break }
            usleep(1_000)
            waited += 1
        }
        let second = try set(engine, "b", "2")
        #expect(engine.syncOnCaller(through: second.sequence) == nil)
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(outcome.isSuccess)
        engine.condition.lock()
        engine.fsyncDelayMicrosForTesting = 0
        engine.condition.unlock()
        // The thread is done: the caller syncs the second commit itself.
        #expect((try? engine.syncOnCaller(through: second.sequence)?.get()) != nil)
        #expect(engine.sequences.durable >= second.sequence)
    }

    /// A failed fsync on the caller fails the engine as on the thread: the caller gets the
    /// error, later writes are refused.
    @Test func aFailedFsyncOnTheCallerFailsTheEngine() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: StorageOptions(), nowMillis: 0)
        defer { try? engine.close() }
        let commit = try set(engine, "a", "1")
        engine.condition.lock()
        engine.fsyncFailureForTesting = true
        engine.condition.unlock()
        let result = try #require(engine.syncOnCaller(through: commit.sequence))
        #expect((try? result.get()) == nil)
        #expect(engine.sequences.durable < commit.sequence)
        #expect {
            try engine.transaction(nowMillis: 2) { try $0.set(bytes("b"), value: bytes("2")) }
        } throws: { error in
            if case .failed = error as? StorageError { return true }
            return false
        }
    }

    @Test func otherPoliciesNeedNoFsync() throws {
        let directory = TemporaryDirectory()
        var options = StorageOptions()
        options.fsync = .everysec
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 0)
        defer { try? engine.close() }
        let commit = try set(engine, "a", "1")
        let fsyncsBefore = engine.statistics.fsyncCount
        #expect((try? engine.syncOnCaller(through: commit.sequence)?.get()) != nil)
        #expect(engine.statistics.fsyncCount == fsyncsBefore)
    }
}
