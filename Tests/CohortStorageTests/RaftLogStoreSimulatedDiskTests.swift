import CohortCore
import CohortRaft
import Testing

@testable import CohortStorage

/// The Raft log store over `SimulatedStorageDevice`: synced entries survive crashes, a torn
/// tail is cut, a failed fdatasync leaves the store refusing and loses nothing synced.
@Suite struct RaftLogStoreSimulatedDiskTests {
    static let directory = "/sim/raft"

    static func options(_ device: SimulatedStorageDevice) -> RaftLogStoreOptions {
        var options = RaftLogStoreOptions()
        options.device = device
        options.segmentBytesMax = 4 << 10
        return options
    }

    static func entries(_ range: ClosedRange<UInt64>) -> [RaftEntry] {
        range.map { raftEntry($0, 1, String(repeating: "e", count: 40)) }
    }

    @Test func syncedEntriesSurviveACrashAndATornTailIsCut() throws {
        var tornTails = 0
        for seed in UInt64(0)..<40 {
            let device = SimulatedStorageDevice()
            do {
                let store = try RaftLogStore.open(
                    directory: Self.directory, options: Self.options(device))
                try store.persist(
                    RaftReady(
                        hardState: raftHardState(1, commit: 5), entriesToAppend: Self.entries(1...5)
                    ))
                try store.write(
                    RaftReady(
                        hardState: raftHardState(1, commit: 5), entriesToAppend: Self.entries(6...9)
                    ))
                var random = SeededGenerator(seed: seed)
                device.crash(random: &random, keepsUnsyncedPrefixProbability: 1)
            }
            let store = try RaftLogStore.open(
                directory: Self.directory, options: Self.options(device))
            #expect(store.lastIndex >= LogIndex(5) && store.lastIndex < LogIndex(9), "seed \(seed)")
            #expect(store.entries == Array(Self.entries(1...9).prefix(store.entries.count)))
            #expect(store.hardState.term == Term(1))
            if store.recovery.tornTail != nil { tornTails += 1 }
        }
        #expect(tornTails > 20)
    }

    @Test func aFailedSyncRefusesFurtherWritesAndLosesNothingSynced() throws {
        let device = SimulatedStorageDevice()
        do {
            let store = try RaftLogStore.open(
                directory: Self.directory, options: Self.options(device))
            try store.persist(
                RaftReady(
                    hardState: raftHardState(1, commit: 0), entriesToAppend: Self.entries(1...3)))
            device.failNext(.sync, path: "seg-")
            #expect(throws: StorageError.self) {
                try store.persist(RaftReady(entriesToAppend: Self.entries(4...5)))
            }
            #expect(throws: StorageError.self) {
                try store.persist(RaftReady(entriesToAppend: Self.entries(6...6)))
            }
            var random = SeededGenerator(seed: 3)
            device.crash(random: &random, keepsUnsyncedPrefixProbability: 0)
        }
        let store = try RaftLogStore.open(directory: Self.directory, options: Self.options(device))
        #expect(store.entries == Self.entries(1...3))
    }

    @Test func snapshotsAndCompactionSurviveACrash() throws {
        let device = SimulatedStorageDevice()
        do {
            let store = try RaftLogStore.open(
                directory: Self.directory, options: Self.options(device))
            for index in UInt64(1)...200 {
                try store.persist(
                    RaftReady(
                        hardState: raftHardState(1, commit: index),
                        entriesToAppend: Self.entries(index...index)))
            }
            #expect(store.segmentFileNames.count > 2)
            try store.saveSnapshot(raftSnapshot(150, 1))
            #expect(try !store.compact(upTo: LogIndex(150)).isEmpty)
            var random = SeededGenerator(seed: 4)
            device.crash(random: &random)
        }
        let store = try RaftLogStore.open(directory: Self.directory, options: Self.options(device))
        #expect(store.snapshotIndex == LogIndex(150))
        #expect(store.lastIndex == LogIndex(200))
        #expect(store.entries.first?.index == LogIndex(151))
    }
}
