import CohortCore
import Foundation
import Testing

@testable import CohortStorage

@Suite struct StorageFailureTests {
    @Test func failedAppendIsRolledBackAndLosesNothingAcknowledged() throws {
        let directory = TemporaryDirectory()
        var options = StorageOptions()
        options.fsync = .none
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options, nowMillis: 0)
            _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("a"), value: bytes("1")) }
            let sizeBefore = engine.statistics.diskBytes
            engine.condition.lock()
            engine.appendFailureForTesting = (bytesWritten: 30, error: .diskFull)
            engine.condition.unlock()
            #expect(throws: StorageError.diskFull) {
                try engine.transaction(nowMillis: 1) { transaction in
                    try transaction.set(bytes("b"), value: bytes("2"))
                    try transaction.set(bytes("a"), value: bytes("lost"))
                }
            }
            #expect(engine.statistics.diskBytes == sizeBefore)
            let size =
                try FileManager.default.attributesOfItem(
                    atPath: directory.file("seg-000001.log"))[.size] as? Int
            #expect(size == sizeBefore)
            #expect(try engine.get(bytes("a"), nowMillis: 1)?.bytes == bytes("1"))
            #expect(try engine.get(bytes("b"), nowMillis: 1) == nil)
            // The engine keeps working after the space comes back.
            _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("c"), value: bytes("3")) }
            try engine.close()
        }
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 1)
        defer { try? engine.close() }
        #expect(engine.recovery.tornTail == nil && engine.recovery.corruptions.isEmpty)
        #expect(engine.scan(after: nil, count: 10, nowMillis: 1).keys == [bytes("a"), bytes("c")])
    }

    @Test func fsyncFailureFailsWaitersAndRefusesWrites() throws {
        let directory = TemporaryDirectory()
        let engine = try StorageEngine.open(
            directory: directory.path, options: StorageOptions(), nowMillis: 0)
        defer { try? engine.close() }
        engine.condition.lock()
        engine.fsyncFailureForTesting = true
        engine.condition.unlock()
        let commit = try #require(
            try engine.transaction(nowMillis: 1) { try $0.set(bytes("a"), value: bytes("1")) }
                .commit)
        let done = DispatchSemaphore(value: 0)
        let outcome = OutcomeBox()
        engine.whenDurable(commit) { result in
            outcome.set(result)
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(!outcome.isSuccess)
        #expect {
            try engine.transaction(nowMillis: 2) { try $0.set(bytes("b"), value: bytes("2")) }
        } throws: { error in
            if case .failed = error as? StorageError { return true }
            return false
        }
        // Reads still work.
        #expect(try engine.get(bytes("a"), nowMillis: 2)?.bytes == bytes("1"))
    }

    /// Under `.batch` the commits wait in the append tail; when writing the tail fails, the
    /// engine fails as after a failed fsync: the waiters get the error, later writes are
    /// refused, and the unacknowledged write is not there after a restart.
    @Test func failedTailWriteFailsWaitersAndRefusesWrites() throws {
        let directory = TemporaryDirectory()
        var options = StorageOptions()
        options.fsync = .batch
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options, nowMillis: 0)
            engine.condition.lock()
            engine.appendFailureForTesting = (bytesWritten: 0, error: .diskFull)
            engine.condition.unlock()
            let commit = try #require(
                try engine.transaction(nowMillis: 1) { try $0.set(bytes("a"), value: bytes("1")) }
                    .commit)
            let done = DispatchSemaphore(value: 0)
            let outcome = OutcomeBox()
            engine.whenDurable(commit) { result in
                outcome.set(result)
                done.signal()
            }
            #expect(done.wait(timeout: .now() + 10) == .success)
            #expect(!outcome.isSuccess)
            #expect {
                try engine.transaction(nowMillis: 2) { try $0.set(bytes("b"), value: bytes("2")) }
            } throws: { error in
                if case .failed = error as? StorageError { return true }
                return false
            }
            try? engine.close()
        }
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 3)
        defer { try? engine.close() }
        #expect(try engine.get(bytes("a"), nowMillis: 3) == nil)
        #expect(try engine.get(bytes("b"), nowMillis: 3) == nil)
    }

    @Test func compactionDropsExpiredLiveEntriesWithoutResurrection() throws {
        let directory = TemporaryDirectory()
        var options = StorageOptions()
        options.fsync = .none
        options.segmentBytesMax = 512
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options, nowMillis: 0)
            // Old permanent versions, then expiring overwrites, then filler to seal them.
            for number in 0..<10 {
                _ = try engine.transaction(nowMillis: 1) {
                    try $0.set(bytes("k\(number)"), value: bytes("permanent"))
                }
            }
            for number in 0..<10 {
                _ = try engine.transaction(nowMillis: 1) {
                    try $0.set(bytes("k\(number)"), value: bytes("brief"), expiresAtMillis: 10)
                }
            }
            for number in 0..<20 {
                _ = try engine.transaction(nowMillis: 1) {
                    try $0.set(bytes("filler\(number)"), value: bytes("f"))
                }
            }
            var rounds = 0
            while rounds < 10, engine.hasCompactionCandidate() {
                _ = try engine.compact(nowMillis: 20)
                rounds += 1
            }
            #expect(engine.statistics.compactions > 0)
            for number in 0..<10 {
                #expect(try engine.get(bytes("k\(number)"), nowMillis: 20) == nil)
            }
            try engine.close()
        }
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 20)
        defer { try? engine.close() }
        for number in 0..<10 {
            #expect(try engine.get(bytes("k\(number)"), nowMillis: 20) == nil)
        }
        #expect(engine.keyCount == 20)
    }
}
