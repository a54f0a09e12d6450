import CohortCore
import CohortNode
import CohortRaft
import CohortReplication
import CohortStorage
import Testing

/// What a restarting node does with its log's snapshot before its group starts.
@Suite struct LeaderGroupRuntimeRestoreTests {
    func openEngine(on device: SimulatedStorageDevice) throws -> StorageEngine {
        var options = StorageOptions()
        options.device = device
        options.backgroundWork = .inline
        options.segmentPreallocationBytes = 0
        return try StorageEngine.open(directory: "/data", options: options, nowMillis: 1_000)
    }

    func durable(snapshotAt index: UInt64, data: [UInt8]) -> RaftDurableState {
        let metadata = RaftSnapshotMetadata(
            index: LogIndex(index), term: Term(2),
            membership: RaftMembership(voters: [NodeID(1), NodeID(2)], witnesses: [NodeID(3)]))
        return RaftDurableState(
            hardState: .initial, snapshot: RaftSnapshot(metadata: metadata, data: data),
            entries: [])
    }

    @Test func aWitnessesMetadataOnlySnapshotRestoresNothingAndDoesNotStopTheNode() throws {
        // Found by the simulator: a keyspace's witness that had installed a snapshot could not
        // restart ("the Raft snapshot ... is damaged"): witnesses receive no data.
        let engine = try openEngine(on: SimulatedStorageDevice())
        defer { try? engine.close() }
        let applied = try LeaderGroupRuntime.restoreEngine(
            engine, from: durable(snapshotAt: 40, data: []), nowMillis: 1_000, directory: "/data")
        #expect(applied == .zero)
    }

    @Test func aDataSnapshotRestoresTheEngineAndADamagedOneIsRefused() throws {
        let engine = try openEngine(on: SimulatedStorageDevice())
        defer { try? engine.close() }
        let state = StateSnapshotCodec.encode([
            .put(key: Array("k".utf8), value: Array("v".utf8), valueType: 0, expiresAtMillis: 0)
        ])
        let applied = try LeaderGroupRuntime.restoreEngine(
            engine, from: durable(snapshotAt: 40, data: state), nowMillis: 1_000,
            directory: "/data")
        #expect(applied == LogIndex(40))
        #expect(try engine.get(Array("k".utf8), nowMillis: 1_000)?.bytes == Array("v".utf8))

        let other = try openEngine(on: SimulatedStorageDevice())
        defer { try? other.close() }
        var damaged = state
        damaged[damaged.count / 2] ^= 0xFF
        #expect(throws: (any Error).self) {
            try LeaderGroupRuntime.restoreEngine(
                other, from: durable(snapshotAt: 40, data: damaged), nowMillis: 1_000,
                directory: "/data")
        }
    }
}
