import CohortCore
import CohortRaft
import CohortReplication
import CohortStorage
import Testing

@testable import CohortNode

/// What a node records in its rollback log when the log store is about to drop entries.
@Suite struct RollbackRecordingTests {
    /// A world that does nothing: these tests only run persistence actions.
    final class QuietEnvironment: GroupEnvironment, @unchecked Sendable {
        func now() -> GroupTime { GroupTime(monotonicMillis: 1, wallMillis: 1_700_000_000_000) }
        func send(_ messages: [RaftMessage], group: GroupID) {}
        func forward(_ bytes: [UInt8], to peer: NodeID, group: GroupID) {}
        func addPeer(_ peer: NodeID, endpoint: PeerEndpoint, admittedAt: LogIndex) {}
        func offload(
            _ kind: OffloadKind, _ work: @escaping @Sendable () -> @Sendable () -> Void
        ) {}
    }

    final class ListedRollbacks: RollbackRecording, @unchecked Sendable {
        var indexes: [LogIndex] = []
        func record(index: LogIndex, term: Term, entry: LogicalEntry, nowMillis: UInt64) {
            indexes.append(index)
        }
        var count: Int { indexes.count }
    }

    func write(_ value: String, at index: UInt64, term: UInt64) -> RaftEntry {
        let logical = LogicalEntry(effects: [
            .put(key: Array("k".utf8), value: Array(value.utf8), valueType: 0, expiresAtMillis: 0)
        ])
        return RaftEntry(
            index: LogIndex(index), term: Term(term),
            kind: .normal(LogicalEntryCodec.encode(logical)))
    }

    /// A deposed leader holding entries 1...4 of term 1, of which it knows 1...2 committed.
    func deposedLeader() throws -> (LeaderGroupRuntime, ListedRollbacks, QuietEnvironment) {
        let device = SimulatedStorageDevice()
        var logOptions = RaftLogStoreOptions()
        logOptions.device = device
        let store = try RaftLogStore.open(directory: "/data/raft", options: logOptions)
        try store.write(
            RaftReady(
                hardState: RaftHardState(
                    term: Term(1), votedFor: NodeID(1), commitIndex: LogIndex(2)),
                entriesToAppend: (1...4).map { write("v\($0)", at: $0, term: 1) }))
        try store.sync()
        var storage = StorageOptions()
        storage.device = device
        storage.backgroundWork = .inline
        storage.segmentPreallocationBytes = 0
        let engine = try StorageEngine.open(directory: "/data", options: storage, nowMillis: 1)
        var configuration = ServerConfiguration()
        configuration.nodeName = "n1"
        let executor = CommandExecutor(
            engine: engine, configuration: configuration, statistics: ServerStatistics(),
            startedAtMillis: 1)
        let environment = QuietEnvironment()
        let group = LeaderGroup(
            configuration: LeaderGroupConfiguration(
                groupID: .defaultGroup, keyspace: "default", nodeName: "n1",
                founders: ["n1", "n2", "n3"], joins: false, definition: nil, raft: RaftConfig(),
                writeTimeoutMillis: 1_000, readTimeoutMillis: 1_000, snapshotEntries: 1_000,
                defaultAckMode: .leader),
            evaluator: executor, durable: store.durableState, engineApplied: .zero,
            catalog: KeyspaceCatalog(), knownPeers: [:], randomSeed: 1, now: environment.now())
        let rollbacks = ListedRollbacks()
        let runtime = LeaderGroupRuntime(
            group: group, store: store, engine: engine, rollback: rollbacks,
            dataDirectory: "/data", environment: environment)
        return (runtime, rollbacks, environment)
    }

    @Test func entriesANewLeaderOverwritesAreRecorded() throws {
        let (runtime, rollbacks, environment) = try deposedLeader()
        _ = environment
        runtime.recordDiscardedEntries(
            replacedBy: RaftReady(entriesToAppend: [write("x", at: 3, term: 2)]))
        #expect(rollbacks.indexes == [LogIndex(3), LogIndex(4)])
    }

    @Test func entriesASnapshotReplacesAreRecordedButNotCommittedOnes() throws {
        // Found by the simulator: a deposed leader that caught up by a snapshot (not by new
        // entries at the same indexes) dropped its uncommitted `leader`-mode writes silently.
        let (runtime, rollbacks, environment) = try deposedLeader()
        _ = environment
        let snapshot = RaftSnapshot(
            metadata: RaftSnapshotMetadata(
                index: LogIndex(10), term: Term(3),
                membership: RaftMembership(voters: [NodeID(1), NodeID(2), NodeID(3)])),
            size: UInt64(StateSnapshotCodec.encode([]).count))
        runtime.recordDiscardedEntries(replacedBy: RaftReady(snapshot: snapshot))
        #expect(rollbacks.indexes == [LogIndex(3), LogIndex(4)])
    }

    @Test func leavingTheGroupRecordsWhatOnlyThisNodeMayHold() throws {
        // Found by the simulator: a keyspace's leader was removed while holding `leader`-mode
        // writes no other member had; they vanished with its group.
        let (runtime, rollbacks, environment) = try deposedLeader()
        _ = environment
        #expect(runtime.run(.leftGroup) == nil)
        #expect(rollbacks.indexes == [LogIndex(3), LogIndex(4)])
    }

    @Test func aLeftoverLogOfAFormerKeyspaceIsRecordedOnce() throws {
        // The removed node crashed before its group left: at the next start its log is swept.
        let device = SimulatedStorageDevice()
        var logOptions = RaftLogStoreOptions()
        logOptions.device = device
        let directory = "/data/keyspaces/orders"
        let rollbacks = ListedRollbacks()
        #expect(
            try LeaderGroupRuntime.recordOrphanedEntries(
                directory: directory, logOptions: logOptions, rollback: rollbacks, nowMillis: 1)
                == 0)
        do {
            let store = try RaftLogStore.open(directory: directory + "/raft", options: logOptions)
            try store.write(
                RaftReady(
                    hardState: RaftHardState(
                        term: Term(1), votedFor: NodeID(1), commitIndex: LogIndex(1)),
                    entriesToAppend: (1...3).map { write("v\($0)", at: $0, term: 1) }))
            try store.sync()
        }
        for _ in 0..<2 {
            try LeaderGroupRuntime.recordOrphanedEntries(
                directory: directory, logOptions: logOptions, rollback: rollbacks, nowMillis: 1)
        }
        #expect(rollbacks.indexes == [LogIndex(2), LogIndex(3)])
    }

    @Test func aSnapshotThatMatchesTheLogDropsNothing() throws {
        let (runtime, rollbacks, environment) = try deposedLeader()
        _ = environment
        let snapshot = RaftSnapshot(
            metadata: RaftSnapshotMetadata(
                index: LogIndex(4), term: Term(1),
                membership: RaftMembership(voters: [NodeID(1), NodeID(2), NodeID(3)])),
            size: UInt64(StateSnapshotCodec.encode([]).count))
        runtime.recordDiscardedEntries(replacedBy: RaftReady(snapshot: snapshot))
        #expect(rollbacks.indexes.isEmpty)
    }
}
