import CohortCore
import Foundation
import Testing

@testable import CohortStorage

/// A compaction keeps the deletion markers that may still hide older versions elsewhere and
/// counts them as live bytes of its output; when that output is compacted in turn, those bytes
/// have no index entry to move. Compaction used to trap there ("still has N live bytes") on
/// any delete-heavy workload once compacted segments were compacted again (found by running
/// redis-benchmark's LPUSH/LPOP against a server).
@Suite struct RecompactionTests {
    @Test(arguments: [false, true])
    func segmentsWithKeptMarkersCompactAgain(background: Bool) throws {
        let directory = TemporaryDirectory()
        var options = StorageOptions.compactingConstantly(background: background)
        var engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 1_000)
        if background { engine.startBackgroundWork() }
        var random = SplitMix64(seed: 11)
        var model: [String: String] = [:]
        var first = 0
        var next = 0
        for step in 0..<3_000 {
            _ = try engine.transaction(nowMillis: 1_000) { txn in
                // A queue: keys appended at one end, deleted at the other.
                if random.next() % 3 != 0 || first == next {
                    try txn.set(bytes("q\(next)"), value: bytes("item-\(step)"))
                    model["q\(next)"] = "item-\(step)"
                    next += 1
                } else {
                    txn.delete(bytes("q\(first)"))
                    model["q\(first)"] = nil
                    first += 1
                }
                let field = "f\(random.next() % 40)"
                if random.next() % 4 == 0 {
                    txn.delete(bytes(field))
                    model[field] = nil
                } else {
                    try txn.set(bytes(field), value: bytes("v\(step)"))
                    model[field] = "v\(step)"
                }
            }
            if !background && step % 50 == 49 { _ = try engine.compact(nowMillis: 1_000) }
        }
        #expect(
            engine.statistics.compactions > (background ? 0 : 10),
            "compaction ran too rarely to prove anything")
        try engine.close()
        options.compactsAutomatically = false
        engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: 1_000)
        defer { try? engine.close() }
        #expect(engine.keyCount == model.count)
        for (key, value) in model {
            #expect(try engine.get(bytes(key), nowMillis: 1_000)?.bytes == bytes(value), "\(key)")
        }
    }
}

extension StorageOptions {
    /// 4 KiB segments that qualify for compaction at the first dead byte, without fsyncs: a
    /// workload of a few thousand writes compacts dozens of times. With `background`, the
    /// background thread compacts (every millisecond, concurrently with the writes); without,
    /// the test calls `compact`.
    static func compactingConstantly(background: Bool) -> StorageOptions {
        var options = StorageOptions()
        options.fsync = .none
        options.segmentBytesMax = 4_096
        options.compactionGarbageBytesMin = 1
        options.backgroundIntervalMillis = 1
        options.compactsAutomatically = background
        return options
    }
}
