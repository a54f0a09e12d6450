import CohortCore
import CohortRaft
import CohortReplication
import CohortStorage
import Testing

@testable import CohortNode

/// What a restarting node does with its log's snapshot before its group starts.
@Suite struct LeaderGroupRuntimeRestoreTests {
    func openEngine(on device: SimulatedStorageDevice) throws -> StorageEngine {
        var options = StorageOptions()
        options.device = device
        options.backgroundWork = .inline
        options.segmentPreallocationBytes = 0
        return try StorageEngine.open(directory: "/data", options: options, nowMillis: 1_000)
    }

    /// A Raft log store on `device` whose snapshot at `index` holds `data`.
    func store(
        on device: SimulatedStorageDevice, snapshotAt index: UInt64, data: [UInt8]
    ) throws -> RaftLogStore {
        var options = RaftLogStoreOptions()
        options.device = device
        let store = try RaftLogStore.open(directory: "/data/raft", options: options)
        let metadata = RaftSnapshotMetadata(
            index: LogIndex(index), term: Term(2),
            membership: RaftMembership(voters: [NodeID(1), NodeID(2)], witnesses: [NodeID(3)]))
        try store.saveSnapshot(metadata, data: data)
        return store
    }

    @Test func aWitnessesMetadataOnlySnapshotRestoresNothingAndDoesNotStopTheNode() throws {
        // Found by the simulator: a keyspace's witness that had installed a snapshot could not
        // restart ("the Raft snapshot ... is damaged"): witnesses receive no data.
        let device = SimulatedStorageDevice()
        let engine = try openEngine(on: device)
        defer { try? engine.close() }
        let applied = try LeaderGroupRuntime.restoreEngine(
            engine, from: store(on: device, snapshotAt: 40, data: []), nowMillis: 1_000,
            directory: "/data")
        #expect(applied == .zero)
    }

    @Test func aDataSnapshotRestoresTheEngineAndADamagedOneIsRefused() throws {
        let device = SimulatedStorageDevice()
        let engine = try openEngine(on: device)
        defer { try? engine.close() }
        var catalog = KeyspaceCatalog()
        catalog.add(
            KeyspaceDefinition(
                name: "orders", voters: ["n1", "n2", "n3"], learners: [], witnesses: [],
                ackMode: .majority))
        let state = StateSnapshotCodec.encode(
            (0..<3_000).map {
                .put(
                    key: Array("k\($0)".utf8), value: Array(repeating: 7, count: 1_000),
                    valueType: 0, expiresAtMillis: 0)
            })
        // 3 MB with the catalog first: read in pieces, across batches of the engine.
        let applied = try LeaderGroupRuntime.restoreEngine(
            engine, from: store(on: device, snapshotAt: 40, data: catalog.snapshotPrefix() + state),
            nowMillis: 1_000, directory: "/data")
        #expect(applied == LogIndex(40))
        #expect(engine.keyCount == 3_000)
        #expect(
            try engine.get(Array("k2999".utf8), nowMillis: 1_000)?.bytes
                == Array(repeating: 7, count: 1_000))

        let otherDevice = SimulatedStorageDevice()
        let other = try openEngine(on: otherDevice)
        defer { try? other.close() }
        var damaged = state
        damaged[damaged.count / 2] ^= 0xFF
        #expect(throws: (any Error).self) {
            try LeaderGroupRuntime.restoreEngine(
                other, from: store(on: otherDevice, snapshotAt: 40, data: damaged),
                nowMillis: 1_000, directory: "/data")
        }
        // The damaged restore left the engine refusing writes and nothing visible.
        #expect(other.keyCount == 0)
    }

    /// A disk that fills while a snapshot is written: the write fails with a clear error, and
    /// its temporary file (which can be as large as the state) does not stay behind.
    @Test func aSnapshotThatDoesNotFitLeavesNoTemporaryFile() throws {
        let device = SimulatedStorageDevice()
        let engine = try openEngine(on: device)
        defer { try? engine.close() }
        for number in 0..<300 {
            try engine.apply(
                [
                    Array("k\(number)".utf8): .put(
                        value: Array(repeating: 1, count: 10_000), type: .string, expiresAtMillis: 0
                    )
                ],
                sequence: UInt64(number + 1), nowMillis: 1_000)
        }
        var options = RaftLogStoreOptions()
        options.device = device
        let store = try RaftLogStore.open(directory: "/data/raft", options: options)
        let metadata = RaftSnapshotMetadata(
            index: LogIndex(300), term: Term(1), membership: RaftMembership(voters: [NodeID(1)]))
        // Room for about half of the 3 MB state.
        device.capacityBytes = device.bytesUsed + 1_500_000
        #expect(throws: StorageError.diskFull) {
            try LeaderGroupRuntime.writeSnapshot(
                engine.snapshot(nowMillis: 0), catalog: KeyspaceCatalog(), metadata: metadata,
                to: store.snapshotFileWriter)
        }
        let leftover = device.contents(of: "/data/raft/snapshot.local.tmp")?.count
        #expect(leftover == nil, "\(leftover ?? 0) bytes of a failed snapshot left behind")
        // With room again, the same snapshot is written and reads back whole.
        device.capacityBytes = nil
        let prepared = try LeaderGroupRuntime.writeSnapshot(
            engine.snapshot(nowMillis: 0), catalog: KeyspaceCatalog(), metadata: metadata,
            to: store.snapshotFileWriter)
        try store.installSnapshot(prepared)
        #expect(prepared.snapshot.size > 3_000_000)
        #expect(store.snapshot == prepared.snapshot)
    }
}
