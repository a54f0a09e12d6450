import CohortCore
import Foundation
import Synchronization
import Testing

@testable import CohortStorage

/// `StorageEngine.waitForWrites`: a blocked client is woken by any write to its keys, whatever
/// path made it (a local transaction, a replicated apply, a snapshot restore), exactly once,
/// and never by writes to other keys or after it stopped waiting.
@Suite struct KeyWaiterTests {
    final class Wakes: Sendable {
        let count = Atomic<Int>(0)
        var wake: @Sendable () -> Void { { self.count.add(1, ordering: .relaxed) } }
        var value: Int { count.load(ordering: .relaxed) }
    }

    func openEngine(_ directory: TemporaryDirectory) throws -> StorageEngine {
        var options = StorageOptions()
        options.fsync = .none
        return try StorageEngine.open(directory: directory.path, options: options, nowMillis: 1)
    }

    @Test func aCommitToAWaitedKeyWakesOnceAndOthersDoNot() throws {
        let directory = TemporaryDirectory()
        let engine = try openEngine(directory)
        let wakes = Wakes()
        _ = engine.waitForWrites(to: [bytes("queue"), bytes("\0escaped")], wake: wakes.wake)
        #expect(engine.keyWaiterCount == 1)
        _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("other"), value: bytes("x")) }
        #expect(wakes.value == 0)
        // A delete cannot give a blocked pop anything: no wake.
        _ = try engine.transaction(nowMillis: 1) { $0.delete(bytes("queue")) }
        #expect(wakes.value == 0)
        // A key starting with a zero byte is escaped in the engine; the waiter still matches.
        _ = try engine.transaction(nowMillis: 1) {
            try $0.set(bytes("\0escaped"), value: bytes("x"))
        }
        #expect(wakes.value == 1)
        #expect(engine.keyWaiterCount == 0, "a waiter is woken once, then forgotten")
        _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("queue"), value: bytes("y")) }
        #expect(wakes.value == 1)
    }

    @Test func replicatedAppliesAndRestoresWakeWaiters() throws {
        let directory = TemporaryDirectory()
        let engine = try openEngine(directory)
        let wakes = Wakes()
        _ = engine.waitForWrites(to: [bytes("queue")], wake: wakes.wake)
        try engine.apply(
            [bytes("queue"): .put(value: bytes("a"), type: .string, expiresAtMillis: 0)],
            sequence: 5, nowMillis: 1)
        #expect(wakes.value == 1)
        _ = engine.waitForWrites(to: [bytes("elsewhere")], wake: wakes.wake)
        try engine.restore(
            [(bytes("unrelated"), .put(value: bytes("b"), type: .string, expiresAtMillis: 0))],
            sequence: 9, nowMillis: 1)
        #expect(wakes.value == 2, "a restore replaces everything, so it wakes everyone")
    }

    @Test func stoppedWaitersAreNotWoken() throws {
        let directory = TemporaryDirectory()
        let engine = try openEngine(directory)
        let wakes = Wakes()
        let first = engine.waitForWrites(to: [bytes("queue")], wake: wakes.wake)
        _ = engine.waitForWrites(to: [bytes("queue")], wake: wakes.wake)
        engine.stopWaiting(first)
        engine.stopWaiting(first)
        #expect(engine.keyWaiterCount == 1)
        _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("queue"), value: bytes("x")) }
        #expect(wakes.value == 1)
        #expect(engine.keyWaiterCount == 0)
    }

    @Test func theWakeRunsAfterTheLockIsReleased() throws {
        let directory = TemporaryDirectory()
        let engine = try openEngine(directory)
        let seen = Mutex<String?>(nil)
        _ = engine.waitForWrites(to: [bytes("queue")]) {
            // Reading the engine from the wake would deadlock if the lock were still held.
            let value = try? engine.get(bytes("queue"), nowMillis: 1)
            seen.withLock { $0 = value.map { String(decoding: $0.bytes, as: UTF8.self) } }
        }
        _ = try engine.transaction(nowMillis: 1) { try $0.set(bytes("queue"), value: bytes("v")) }
        #expect(seen.withLock { $0 } == "v")
    }
}
