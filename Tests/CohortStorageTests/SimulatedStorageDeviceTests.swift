import Glibc
import Testing

@testable import CohortStorage

/// The simulated disk's own rules: what a crash keeps, directory durability, injected faults.
@Suite struct SimulatedStorageDeviceTests {
    static func device() throws -> SimulatedStorageDevice {
        let device = SimulatedStorageDevice()
        try device.createDirectory("/d")
        return device
    }

    static func write(_ text: String, to file: any StorageFileHandle, at offset: Int) throws {
        try bytes(text).withUnsafeBytes { raw in
            Result { () throws(StorageError) in try file.write(raw, at: offset) }
        }.get()
    }

    @Test func syncedDataAndSyncedNamesSurviveACrashAndNothingElse() throws {
        let device = try Self.device()
        let file = try device.open("/d/a", mode: .createNew)
        try Self.write("durable", to: file, at: 0)
        try file.sync()
        try device.syncDirectory("/d")
        try Self.write("-lost", to: file, at: 7)
        let unnamed = try device.open("/d/b", mode: .createNew)
        try Self.write("synced but never named", to: unnamed, at: 0)
        try unnamed.sync()
        #expect(device.contents(of: "/d/a") == bytes("durable-lost"))
        var random = SeededGenerator(seed: 1)
        device.crash(random: &random, keepsUnsyncedPrefixProbability: 0)
        #expect(device.contents(of: "/d/a") == bytes("durable"))
        #expect(try device.contentsOfDirectory("/d") == ["a"])
        #expect(device.statistics.unsyncedWritesLost == 1)
        #expect(device.statistics.directoryChangesLost == 1)
        // The handles of the crashed process are dead.
        #expect(throws: StorageError.self) { try file.sync() }
    }

    @Test func aCrashKeepsAnOrderedPrefixWithItsLastWriteTorn() throws {
        var tornSeen = false
        for seed in UInt64(0)..<40 {
            let device = try Self.device()
            let file = try device.open("/d/a", mode: .createNew)
            try device.syncDirectory("/d")
            for (number, text) in ["aaaa", "bbbb", "cccc"].enumerated() {
                try Self.write(text, to: file, at: number * 4)
            }
            var random = SeededGenerator(seed: seed)
            device.crash(random: &random, keepsUnsyncedPrefixProbability: 1)
            let kept = try #require(device.contents(of: "/d/a"))
            // Always a prefix of what was written, one write short of whole at most.
            #expect(bytes("aaaabbbbcccc").starts(with: kept), "seed \(seed): \(kept)")
            #expect(kept.count < 12, "seed \(seed): the last kept write is torn")
            #expect(device.statistics.tornWrites == 1)
            tornSeen = tornSeen || kept.count % 4 != 0
        }
        #expect(tornSeen)
    }

    @Test func renamesAndRemovalsWaitForTheDirectorySync() throws {
        let device = try Self.device()
        let file = try device.open("/d/old", mode: .createNew)
        try Self.write("x", to: file, at: 0)
        try file.sync()
        try device.syncDirectory("/d")
        try device.rename("/d/old", to: "/d/new")
        var random = SeededGenerator(seed: 2)
        device.crash(random: &random)
        #expect(try device.contentsOfDirectory("/d") == ["old"])
        try device.rename("/d/old", to: "/d/new")
        try device.syncDirectory("/d")
        try device.remove("/d/new")
        device.crash(random: &random)
        #expect(try device.contentsOfDirectory("/d") == ["new"])
        #expect(device.contents(of: "/d/new") == bytes("x"))
    }

    @Test func scheduledFaultsFailTheMatchingCallsOnly() throws {
        let device = try Self.device()
        let log = try device.open("/d/seg-000001.log", mode: .createNew)
        let other = try device.open("/d/other", mode: .createNew)
        device.failNext(.sync, path: "seg-", count: 2)
        device.failNext(.write, path: "other", errno: ENOSPC)
        try other.sync()
        #expect(throws: StorageError.diskFull) { try Self.write("x", to: other, at: 0) }
        #expect(throws: StorageError.self) { try log.sync() }
        #expect(throws: StorageError.self) { try log.sync() }
        try log.sync()
        #expect(device.statistics.faultsInjected == 3)
    }

    @Test func aFailedSyncNeverMakesItsWritesDurable() throws {
        let device = try Self.device()
        let file = try device.open("/d/a", mode: .createNew)
        try device.syncDirectory("/d")
        try Self.write("lost", to: file, at: 0)
        device.failNext(.sync)
        #expect(throws: StorageError.self) { try file.sync() }
        // Linux may report the retry as a success (fsyncgate): the data still is not there.
        try file.sync()
        #expect(device.contents(of: "/d/a") == bytes("lost"))
        #expect(device.durableContents(of: "/d/a") == [])
        #expect(device.statistics.writesDroppedByFailedSync == 1)
    }

    @Test func theFaultHookDecidesEachCall() throws {
        let device = try Self.device()
        device.setFaultHook { operation, path in
            operation == .open && path.hasSuffix("/refused") ? EIO : nil
        }
        #expect(throws: StorageError.self) { _ = try device.open("/d/refused", mode: .createNew) }
        _ = try device.open("/d/accepted", mode: .createNew)
    }

    @Test func aFullDiskRefusesWritesThatGrowFiles() throws {
        let device = SimulatedStorageDevice(capacityBytes: 8)
        try device.createDirectory("/d")
        let file = try device.open("/d/a", mode: .createNew)
        try Self.write("12345678", to: file, at: 0)
        #expect(throws: StorageError.diskFull) { try Self.write("9", to: file, at: 8) }
        try Self.write("abcd", to: file, at: 0)
    }
}
