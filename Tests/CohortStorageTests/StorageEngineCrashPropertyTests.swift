import CohortCore
import Foundation
import Glibc
import Testing

@testable import CohortStorage

/// Random commits, syncs, faults, background work, crashes and restarts of the engine over a
/// simulated disk, against a model: after every crash the recovered keys and values are one
/// of the states the model went through since the last acknowledged sync (never older, so
/// nothing acknowledged is lost, and whole transactions only).
@Suite struct StorageEngineCrashPropertyTests {
    typealias State = [String: [UInt8]]

    static let keys = (0..<8).map { "k\($0)" }

    @Test func recoveredStateIsAStateTheModelPassedSinceItsLastAcknowledgedSync() throws {
        for seed in UInt64(0)..<300 {
            try Self.run(seed: seed)
        }
    }

    @Test func aSeedReplaysExactly() throws {
        let first = try Self.run(seed: 42)
        let second = try Self.run(seed: 42)
        #expect(first == second)
        #expect(first.crashes > 0)
    }

    /// One random run; returns the device's counters.
    @discardableResult
    static func run(seed: UInt64) throws -> SimulatedStorageStatistics {
        var random = SeededGenerator(seed: seed)
        let device = SimulatedStorageDevice()
        let batch = Bool.random(using: &random)
        var options = StorageEngineSimulatedDiskTests.options(
            device, fsync: batch ? .batch : .everysec)
        options.segmentBytesMax = 1 << 10
        options.segmentPreallocationBytes = [0, 256][Int.random(in: 0...1, using: &random)]
        options.defersAppendWrites = !batch && Bool.random(using: &random)
        options.compactionGarbageBytesMin = 1
        var engine = try StorageEngineSimulatedDiskTests.open(options)
        // The states since the last acknowledged sync, oldest first; the last is the current.
        var states: [State] = [[:]]
        var lastCommit: UInt64 = 0
        var now: UInt64 = 1

        var droppedBeforeOpen = 0

        func recoverAndCheck(_ context: String) throws {
            droppedBeforeOpen = device.statistics.writesDroppedByFailedSync
            engine = try StorageEngineSimulatedDiskTests.open(options)
            let recovered = try read(engine)
            let isAState = states.contains(recovered)
            if trace {
                print("recovered \(summary(recovered)) states \(states.map(summary))")
                print("  \(engine.recovery)")
                for name
                    in (try? device.contentsOfDirectory(StorageEngineSimulatedDiskTests.directory))
                    ?? []
                {
                    print(
                        "  \(name) \(device.contents(of: StorageEngineSimulatedDiskTests.directory + "/" + name)?.count ?? -1)"
                    )
                }
            }
            #expect(
                isAState,
                """
                seed \(seed), \(context): recovered \(recovered.keys.sorted()) is no state since \
                the last acknowledged sync (\(states.count) of them)
                """)
            #expect(engine.recovery.corruptions.isEmpty, "seed \(seed): \(engine.recovery)")
            states = [recovered]
            lastCommit = 0
        }

        let trace = ProcessInfo.processInfo.environment["TRACE_SEED"] == "\(seed)"
        if trace {
            print(
                "batch \(batch) \(options.segmentPreallocationBytes) defers \(options.defersAppendWrites)"
            )
        }
        for step in 0..<60 {
            now += 1
            let roll = Int.random(in: 0..<100, using: &random)
            if trace {
                print(
                    "step \(step) roll \(roll) states \(states.map(summary)) \(device.statistics)")
            }
            switch roll {
            case 0..<50:
                var next = states.last!
                let writes = (0..<Int.random(in: 1...3, using: &random)).map { _ in
                    let key = keys.randomElement(using: &random)!
                    let value =
                        Int.random(in: 0..<4, using: &random) == 0
                        ? nil : random.bytes(count: Int.random(in: 0..<120, using: &random))
                    return (key, value)
                }
                do {
                    let commit = try engine.transaction(nowMillis: now) { transaction in
                        for (key, value) in writes {
                            if let value {
                                try transaction.set(bytes(key), value: value)
                            } else {
                                transaction.delete(bytes(key))
                            }
                        }
                    }.commit
                    for (key, value) in writes { next[key] = value }
                    if let commit {
                        lastCommit = commit.sequence
                        states.append(next)
                    }
                } catch {
                    // Refused (a failed engine, a failed write): nothing of it applies.
                }
            case 50..<70:
                let outcome =
                    batch
                    ? engine.syncOnCaller(through: lastCommit) : engine.runPendingSync()
                if case .success? = outcome { states = [states.last!] }
            case 70..<75:
                engine.runPendingBackgroundWork(nowMillis: now)
            case 75..<82:
                let operation: SimulatedStorageDevice.Operation =
                    Bool.random(using: &random) ? .sync : .write
                let code = Bool.random(using: &random) ? EIO : ENOSPC
                device.failNext(operation, errno: code)
            case 82..<92:
                device.crash(random: &random, keepsUnsyncedPrefixProbability: 0.5)
                try recoverAndCheck("crash at step \(step)")
            case 92..<95:
                device.clearScheduledFaults()
                // After a failed fsync the page cache holds writes that will never reach the
                // disk (fsyncgate); a restart of the process alone would read them back as if
                // they were durable. Only a crash of the machine recovers from what is on disk.
                if device.statistics.writesDroppedByFailedSync > droppedBeforeOpen {
                    device.crash(random: &random, keepsUnsyncedPrefixProbability: 0.5)
                    try recoverAndCheck("crash after a failed fsync at step \(step)")
                    continue
                }
                let closed = (try? engine.close()) != nil
                try recoverAndCheck("restart at step \(step)")
                if closed { #expect(states.count == 1) }
            default:
                let key = keys.randomElement(using: &random)!
                #expect(
                    try engine.get(bytes(key), nowMillis: now)?.bytes == states.last![key],
                    "seed \(seed) step \(step): read of \(key)")
            }
        }
        device.crash(random: &random, keepsUnsyncedPrefixProbability: 0.5)
        try recoverAndCheck("the final crash")
        return device.statistics
    }

    static func summary(_ state: State) -> String {
        state.keys.sorted().map { "\($0)=\(state[$0]!.count)" }.joined(separator: ",")
    }

    /// Every live key and its value.
    static func read(_ engine: StorageEngine) throws -> State {
        var state: State = [:]
        for key in engine.scan(after: nil, count: 1_000, nowMillis: 1).keys {
            state[String(decoding: key, as: UTF8.self)] = try engine.get(key, nowMillis: 1)?.bytes
        }
        return state
    }
}
