import CohortCore
import Foundation
import Testing

@testable import CohortStorage

/// Each segment's live bytes (which decide compaction) equal the lengths of the records the
/// index points to in it: after overwrites within one segment and across rotations, deletions,
/// compaction and a restart.
@Suite struct LiveBytesTests {
    static func expectLiveBytesMatchIndex(_ engine: StorageEngine) {
        engine.condition.lock()
        defer { engine.condition.unlock() }
        var fromIndex: [UInt32: Int] = [:]
        var iterator = engine.index.makeIterator(after: nil)
        while let (_, entry) = iterator.next() {
            fromIndex[entry.segmentID, default: 0] += Int(entry.recordLength)
        }
        for (id, state) in engine.segments {
            #expect(state.liveBytes == fromIndex[id, default: 0], "segment \(id)")
        }
    }

    @Test func liveBytesFollowTheIndex() throws {
        let directory = TemporaryDirectory()
        var options = StorageOptions()
        options.fsync = .none
        options.segmentBytesMax = 2_048
        options.compactsAutomatically = false
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options, nowMillis: 0)
            for round in 0..<12 {
                _ = try engine.transaction(nowMillis: 1) { transaction in
                    for number in 0..<5 {
                        try transaction.set(
                            bytes("k\(number)"),
                            value: bytes(String(repeating: "v", count: round + number)))
                    }
                }
                // Overwrites of the same key within one commit's segment, one per commit.
                _ = try engine.transaction(nowMillis: 1) {
                    try $0.set(bytes("k0"), value: bytes("again-\(round)"))
                }
                if round % 3 == 0 {
                    _ = try engine.transaction(nowMillis: 1) { $0.delete(bytes("k1")) }
                }
                Self.expectLiveBytesMatchIndex(engine)
            }
            #expect(engine.statistics.segmentCount > 2, "the writes should span segments")
            while engine.hasCompactionCandidate() { _ = try engine.compact(nowMillis: 1) }
            Self.expectLiveBytesMatchIndex(engine)
            try engine.close()
        }
        let reopened = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 2)
        defer { try? reopened.close() }
        Self.expectLiveBytesMatchIndex(reopened)
    }
}
