import CohortCore
import Synchronization
import Testing

@testable import CohortStorage

/// The storage engine over `SimulatedStorageDevice`, with inline background work, as the
/// simulator runs it: crashes, torn tails and failed fsyncs.
@Suite struct StorageEngineSimulatedDiskTests {
    static let directory = "/sim/engine"

    static func options(
        _ device: SimulatedStorageDevice, fsync: FsyncPolicy = .batch
    ) -> StorageOptions {
        var options = StorageOptions()
        options.device = device
        options.backgroundWork = .inline
        options.fsync = fsync
        options.segmentBytesMax = 4 << 10
        options.segmentPreallocationBytes = 0
        options.valueCacheBytesMax = 0
        return options
    }

    static func open(_ options: StorageOptions) throws -> StorageEngine {
        try StorageEngine.open(directory: directory, options: options, nowMillis: 1)
    }

    static func set(_ engine: StorageEngine, _ key: String, _ value: String) throws -> Commit {
        try #require(
            try engine.transaction(nowMillis: 1) { try $0.set(bytes(key), value: bytes(value)) }
                .commit)
    }

    static func value(_ engine: StorageEngine, _ key: String) throws -> String? {
        try engine.get(bytes(key), nowMillis: 1).map { String(decoding: $0.bytes, as: UTF8.self) }
    }

    @Test func acknowledgedWritesSurviveACrashAndUnsyncedOnesMayVanish() throws {
        for seed in UInt64(0)..<20 {
            let device = SimulatedStorageDevice()
            let options = Self.options(device)
            do {
                let engine = try Self.open(options)
                let acknowledged = try Self.set(engine, "a", "1")
                #expect(try engine.syncOnCaller(through: acknowledged.sequence)?.get() != nil)
                _ = try Self.set(engine, "b", "2")
                // Written to the file, never synced.
                try engine.writeAppends()
                var random = SeededGenerator(seed: seed)
                device.crash(random: &random, keepsUnsyncedPrefixProbability: 0.5)
                #expect(engine.runningThreads == 0)
            }
            let engine = try Self.open(options)
            #expect(try Self.value(engine, "a") == "1", "seed \(seed)")
            #expect(try [nil, "2"].contains(Self.value(engine, "b")), "seed \(seed)")
            #expect(engine.recovery.corruptions.isEmpty)
        }
    }

    @Test func aTornTailIsDetectedAndCutAtRecovery() throws {
        var tornTails = 0
        for seed in UInt64(0)..<20 {
            let device = SimulatedStorageDevice()
            // Each commit is written at once; only the periodic sync makes it durable.
            let options = Self.options(device, fsync: .everysec)
            do {
                let engine = try Self.open(options)
                _ = try Self.set(engine, "a", "1")
                try engine.runPendingSync().get()
                _ = try Self.set(engine, "b", String(repeating: "x", count: 100))
                var random = SeededGenerator(seed: seed)
                device.crash(random: &random, keepsUnsyncedPrefixProbability: 1)
            }
            let engine = try Self.open(options)
            #expect(try Self.value(engine, "a") == "1")
            #expect(try Self.value(engine, "b") == nil, "the one unsynced write is always torn")
            if let torn = engine.recovery.tornTail {
                tornTails += 1
                #expect(torn.bytesDropped > 0)
                #expect(torn.file == "seg-000001.log")
            }
            #expect(engine.recovery.corruptions.isEmpty)
            // The cut is durable: the next crash finds a clean end.
            _ = try Self.set(engine, "c", "3")
            try engine.runPendingSync().get()
            var random = SeededGenerator(seed: seed)
            device.crash(random: &random, keepsUnsyncedPrefixProbability: 0)
            let reopened = try Self.open(options)
            #expect(reopened.recovery.tornTail == nil)
            #expect(try Self.value(reopened, "c") == "3")
        }
        #expect(tornTails > 10)
    }

    @Test func aFailedFsyncRefusesWritesAndLosesNothingAcknowledged() throws {
        let device = SimulatedStorageDevice()
        let options = Self.options(device)
        do {
            let engine = try Self.open(options)
            let first = try Self.set(engine, "a", "1")
            try #require(try engine.syncOnCaller(through: first.sequence)?.get() != nil)
            let second = try Self.set(engine, "b", "2")
            let outcome = DurabilityOutcome()
            engine.whenDurable(second) { result in outcome.value.withLock { $0 = result } }
            #expect(outcome.get() == nil, "inline: nothing syncs until the caller asks")
            device.failNext(.sync, path: "seg-")
            guard case .failure(.failed) = engine.runPendingSync() else {
                Issue.record("the failed fsync is reported")
                return
            }
            guard case .failure(.failed)? = outcome.get() else {
                Issue.record(
                    "the waiter hears of the failure: \(String(describing: outcome.get()))")
                return
            }
            #expect(throws: StorageError.self) { try Self.set(engine, "c", "3") }
            var random = SeededGenerator(seed: 7)
            device.crash(random: &random)
        }
        let engine = try Self.open(options)
        #expect(try Self.value(engine, "a") == "1")
        #expect(try Self.value(engine, "c") == nil)
    }

    @Test func inlineBackgroundWorkCompactsOnlyWhenAsked() throws {
        let device = SimulatedStorageDevice()
        var options = Self.options(device, fsync: .everysec)
        options.compactionGarbageBytesMin = 1
        let engine = try Self.open(options)
        engine.startBackgroundWork()
        for round in 0..<40 {
            for key in ["a", "b", "c"] {
                _ = try Self.set(engine, key, String(repeating: "\(round % 10)", count: 200))
            }
        }
        #expect(engine.runningThreads == 0)
        #expect(engine.statistics.compactions == 0)
        let report = engine.runPendingBackgroundWork(nowMillis: 2)
        #expect(report?.segmentsCompacted.isEmpty == false)
        #expect(engine.statistics.compactions == 1)
        try engine.close()
        let reopened = try Self.open(options)
        #expect(reopened.recovery.indexCheckpointUsed)
        #expect(try Self.value(reopened, "a") == String(repeating: "9", count: 200))
    }
}

/// Where a durability callback leaves its result.
final class DurabilityOutcome: Sendable {
    let value = Mutex<Result<Void, StorageError>?>(nil)

    func get() -> Result<Void, StorageError>? { value.withLock { $0 } }
}
