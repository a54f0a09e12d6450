import CohortCore
import CohortReplication
import CohortStorage
import Foundation
import Testing

@testable import CohortNet

/// The rollback log: what a new leader discarded survives a restart, and a failure to write
/// it is thrown, not swallowed.
struct RollbackLogTests {
    static let entry = LogicalEntry(effects: [
        .put(key: Array("k".utf8), value: Array("v\n".utf8), valueType: 0, expiresAtMillis: 0),
        .delete(key: Array("gone".utf8)),
    ])

    @Test func recordedLinesSurviveARestart() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/rollback.log"
        let log = try RollbackLog(path: path)
        try log.record(index: LogIndex(7), term: Term(2), entry: Self.entry, nowMillis: 1_000)
        try log.record(
            index: LogIndex(8), term: Term(2), entry: LogicalEntry(flushesAll: true),
            nowMillis: 1_001)
        let expected = [
            "at_ms=1000 index=7 term=2 set \"k\"=\"v\\x0a\" del \"gone\"",
            "at_ms=1001 index=8 term=2 flushall",
        ]
        #expect(log.newest(10) == expected)
        #expect(try RollbackLog(path: path).newest(10) == expected)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == expected.map { $0 + "\n" }.joined())
    }

    @Test func aFailedWriteIsThrownAndTheEntryStaysInMemory() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // The log's path is a directory: open for writing fails (EISDIR), even as root.
        let path = directory.path + "/rollback.log"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let log = try RollbackLog(path: path)
        #expect(throws: StorageError.io(errno: EISDIR, operation: "open \(path)")) {
            try log.record(index: LogIndex(1), term: Term(1), entry: Self.entry, nowMillis: 5)
        }
        #expect(log.count == 1, "COHORT ROLLBACK still lists it")
        // A directory that does not exist.
        let missing = try RollbackLog(path: directory.path + "/nope/rollback.log")
        #expect(throws: StorageError.self) {
            try missing.record(index: LogIndex(1), term: Term(1), entry: Self.entry, nowMillis: 5)
        }
    }

    @Test func aFullDiskIsReportedAsSuch() {
        // /dev/full fails every write with ENOSPC.
        #expect(throws: StorageError.diskFull) {
            try DurableFile.append(Array("x\n".utf8), name: "full", directory: "/dev")
        }
    }
}
