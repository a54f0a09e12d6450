import CohortCore
import Foundation
import Synchronization
import Testing

@testable import CohortStorage

/// Collections under compaction: lists pushed and popped, hashes written and deleted, with
/// small segments so that compaction runs all the time, on the background thread (concurrently
/// with the writes) and inline; the contents match a model after every step and a restart.
@Suite struct CollectionCompactionTests {
    func options(background: Bool) -> StorageOptions {
        .compactingConstantly(background: background)
    }

    @Test(arguments: [false, true])
    func listsAndHashesSurviveCompaction(background: Bool) throws {
        let directory = TemporaryDirectory()
        var engine = try StorageEngine.open(
            directory: directory.path, options: options(background: background), nowMillis: 1_000)
        if background { engine.startBackgroundWork() }
        var random = SplitMix64(seed: 11)
        var queue: [String] = []
        var fields: [String: String] = [:]
        for step in 0..<3_000 {
            _ = try engine.transaction(nowMillis: 1_000) { txn in
                var list =
                    if case .found(let found) = try txn.collection(bytes("queue")) {
                        found
                    } else {
                        txn.newCollection(bytes("queue"), type: .list)
                    }
                if random.next() % 3 != 0 || queue.isEmpty {
                    try txn.pushItem(bytes("item-\(step)"), atFront: false, to: &list)
                    queue.append("item-\(step)")
                } else {
                    let popped = try txn.popItem(fromFront: true, of: &list)
                    #expect(popped == bytes(queue.removeFirst()), "step \(step)")
                }
                try txn.saveCollection(list)
                var hash =
                    if case .found(let found) = try txn.collection(bytes("hash")) {
                        found
                    } else {
                        txn.newCollection(bytes("hash"), type: .hash)
                    }
                let field = "f\(random.next() % 40)"
                if random.next() % 4 == 0 {
                    txn.removeElement(bytes(field), from: &hash)
                    fields[field] = nil
                } else {
                    try txn.putElement(bytes(field), value: bytes("v\(step)"), in: &hash)
                    fields[field] = "v\(step)"
                }
                try txn.saveCollection(hash)
            }
            if !background && step % 50 == 49 { _ = try engine.compact(nowMillis: 1_000) }
            if step % 500 == 499 {
                #expect(try listContents(engine) == queue)
            }
        }
        #expect(engine.statistics.compactions > 0, "compaction never ran")
        try engine.close()
        engine = try StorageEngine.open(
            directory: directory.path, options: options(background: false), nowMillis: 1_000)
        defer { try? engine.close() }
        #expect(try listContents(engine) == queue)
        let hash = try engine.read(nowMillis: 1_000) { txn -> [String: String] in
            guard case .found(let handle) = try txn.collection(bytes("hash")) else { return [:] }
            var all: [String: String] = [:]
            try txn.forEachElement(of: handle) { element, value in
                all[String(decoding: element, as: UTF8.self)] = String(
                    decoding: value, as: UTF8.self)
                return true
            }
            return all
        }
        #expect(hash == fields)
    }

    func listContents(_ engine: StorageEngine) throws -> [String] {
        try engine.read(nowMillis: 1_000) { txn in
            guard case .found(let list) = try txn.collection(bytes("queue")), list.count > 0 else {
                return []
            }
            return try txn.items(of: list, from: 0, through: list.count - 1).map {
                String(decoding: $0, as: UTF8.self)
            }
        }
    }
}
