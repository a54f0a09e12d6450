import CohortCore
import CohortRaft
import CohortReplication
import CohortStorage
import Testing

@testable import CohortNode

/// The leaderless group over real storage engines (on simulated disks): writes and reads
/// across three runtimes, and a runtime reopened from its disk keeps its states and continues
/// its dots above what it handed out.
@Suite struct LeaderlessRuntimeTests {
    /// Frames the runtimes send, delivered when the test says.
    final class Wire: GroupEnvironment, @unchecked Sendable {
        var frames: [(from: NodeID, to: NodeID, bytes: [UInt8])] = []
        let sender: NodeID
        let shared: Shared

        final class Shared: @unchecked Sendable {
            var frames: [(from: NodeID, to: NodeID, bytes: [UInt8])] = []
            var nowMillis: UInt64 = 0
        }

        init(sender: NodeID, shared: Shared) {
            self.sender = sender
            self.shared = shared
        }

        func now() -> GroupTime {
            GroupTime(
                monotonicMillis: shared.nowMillis, wallMillis: 1_700_000_000_000 + shared.nowMillis)
        }
        func send(_ messages: [RaftMessage], group: GroupID) {}
        func forward(_ bytes: [UInt8], to peer: NodeID, group: GroupID) {
            shared.frames.append((sender, peer, bytes))
        }
        func addPeer(_ peer: NodeID, endpoint: PeerEndpoint, admittedAt: LogIndex) {}
        func offload(
            _ kind: OffloadKind, _ work: @escaping @Sendable () -> @Sendable () -> Void
        ) {
            work()()
        }
    }

    struct Cluster {
        let shared = Wire.Shared()
        var devices: [NodeID: SimulatedStorageDevice] = [:]
        var wires: [NodeID: Wire] = [:]
        var runtimes: [NodeID: LeaderlessRuntime] = [:]
        let ring = LeaderlessRing(members: [NodeID(1), NodeID(2), NodeID(3)], replicas: 3)
        let configuration = LeaderlessConfiguration(antiEntropyIntervalMillis: 0)

        init() throws {
            for id in ring.members {
                devices[id] = SimulatedStorageDevice()
                wires[id] = Wire(sender: id, shared: shared)
                try open(id)
            }
        }

        mutating func open(_ id: NodeID) throws {
            var options = StorageOptions()
            options.device = devices[id]!
            options.backgroundWork = .inline
            options.segmentPreallocationBytes = 0
            options.fsync = .batch
            let engine = try StorageEngine.open(directory: "/data", options: options, nowMillis: 1)
            runtimes[id] = try LeaderlessRuntime.open(
                nodeID: id, ring: ring, configuration: configuration, engine: engine,
                groupID: GroupID(7), environment: wires[id]!)
        }

        func deliver() {
            while !shared.frames.isEmpty {
                let (from, to, bytes) = shared.frames.removeFirst()
                runtimes[to]?.receive(bytes, from: from)
            }
        }
    }

    @Test func writesAndReadsCrossRuntimesAndSurviveAReopen() throws {
        var cluster = try Cluster()
        let (n1, n2) = (NodeID(1), NodeID(2))
        var written: LeaderlessWriteResult?
        cluster.runtimes[n1]!.write(Array("cart".utf8), value: Array("milk".utf8), context: .empty)
        {
            written = $0
        }
        cluster.deliver()
        guard case .written(let dot, _) = written else {
            Issue.record("write not acknowledged: \(String(describing: written))")
            return
        }
        var read: LeaderlessReadResult?
        cluster.runtimes[n2]!.read(Array("cart".utf8)) { read = $0 }
        cluster.deliver()
        guard case .found(let state, _) = read else {
            Issue.record("read failed: \(String(describing: read))")
            return
        }
        #expect(state.values == [Array("milk".utf8)])
        #expect(state.holds(dot))

        // n1 reopens from its disk: its state is there, and its next dot is new.
        try cluster.runtimes[n1]!.engine.close()
        try cluster.open(n1)
        #expect(cluster.runtimes[n1]!.group.durableState(of: Array("cart".utf8)).holds(dot))
        var second: LeaderlessWriteResult?
        cluster.runtimes[n1]!.write(
            Array("cart".utf8), value: Array("eggs".utf8), context: state.context
        ) { second = $0 }
        cluster.deliver()
        guard case .written(let newer, _) = second else {
            Issue.record("second write not acknowledged")
            return
        }
        #expect(newer.counter > dot.counter + LeaderlessGroup.dotReservationBlock - 1)
        read = nil
        cluster.runtimes[NodeID(3)]!.read(Array("cart".utf8)) { read = $0 }
        cluster.deliver()
        guard case .found(let merged, _) = read else {
            Issue.record("read failed")
            return
        }
        #expect(merged.values == [Array("eggs".utf8)])
    }

    /// With the host's hook set, disk writes wait for `flushDisk`: the writes of several
    /// requests in one loop turn share one engine commit (one fsync), and nothing leaves the
    /// node before it is durable.
    @Test func diskWritesOfOneTurnShareOneCommit() throws {
        let cluster = try Cluster()
        let runtime = cluster.runtimes[NodeID(1)]!
        var hookCalls = 0
        runtime.onDiskPending = { hookCalls += 1 }
        let committedBefore = runtime.engine.sequences.committed
        var acknowledged = 0
        for index in 0..<3 {
            runtime.write(Array("k\(index)".utf8), value: [1], context: .empty) { result in
                if case .written = result { acknowledged += 1 }
            }
        }
        #expect(hookCalls == 1, "one flush asked for per turn, not per write")
        #expect(runtime.engine.sequences.committed == committedBefore)
        #expect(cluster.shared.frames.isEmpty, "nothing is sent before it is durable")
        runtime.flushDisk()
        #expect(runtime.engine.sequences.committed == committedBefore + 1)
        #expect(cluster.shared.frames.count == 6, "each write to the two other replicas")
        cluster.deliver()
        #expect(acknowledged == 3)
    }

    @Test func framesThatDoNotDecodeAreDroppedAndReservedKeysAreNotClientKeys() throws {
        let cluster = try Cluster()
        var logged: [String] = []
        cluster.runtimes[NodeID(1)]!.onLog = { _, message, _ in logged.append(message) }
        cluster.runtimes[NodeID(1)]!.receive([0xEE, 1, 2], from: NodeID(2))
        #expect(logged.count == 1)
        #expect(!LeaderlessRuntime.isClientKey(LeaderlessRuntime.reservedPrefix + [1]))
        #expect(LeaderlessRuntime.isClientKey(Array("user:1".utf8)))
    }
}
