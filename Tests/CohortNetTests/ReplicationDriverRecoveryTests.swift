import CohortCore
import CohortNode
import CohortRaft
import CohortStorage
import Logging
import Testing

@testable import CohortNet

/// What a restarted driver recovers before it touches the network.
struct ReplicationDriverRecoveryTests {
    static func configuration(directory: String) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.dataDirectory = directory
        configuration.nodeName = "n1"
        configuration.peers = ["n1", "n2", "n3"].enumerated().map {
            ClusterPeer(name: $1, host: "127.0.0.1", port: 20_000 + $0)
        }
        return configuration
    }

    /// Node n1's engine and driver over `directory` (nothing started).
    static func openDriver(directory: String) throws -> (StorageEngine, ReplicationDriver) {
        let configuration = Self.configuration(directory: directory)
        let engine = try StorageEngine.open(
            directory: directory, options: StorageOptions(), nowMillis: 1_000)
        let executor = CommandExecutor(
            engine: engine, configuration: configuration, statistics: ServerStatistics(),
            startedAtMillis: 1_000)
        do {
            let driver = try ReplicationDriver(
                configuration: configuration, executor: executor, logger: Logger(label: "test"))
            return (engine, driver)
        } catch {
            try? engine.close()
            throw error
        }
    }

    /// A node that voted before any entry reached its log must remember the vote after a
    /// restart, or it could vote twice in one term (two leaders). An early driver replaced a
    /// log without entries by the empty state, dropping term and vote; this test failed then.
    @Test func termAndVoteSurviveARestartWithAnEmptyLog() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let candidate = ReplicationDriver.nodeID(named: "n2")
        do {
            let store = try RaftLogStore.open(directory: directory.path + "/raft")
            try store.persist(
                RaftReady(
                    hardState: RaftHardState(term: Term(7), votedFor: candidate, commitIndex: .zero)
                ))
        }
        let (engine, driver) = try Self.openDriver(directory: directory.path)
        defer { try? engine.close() }
        #expect(driver.group.raft.term == Term(7))
        #expect(driver.group.raft.votedFor == candidate)
        #expect(driver.group.syncedHardState.term == Term(7))
    }

    /// A peer's message may reach a group as soon as its transport listens, before the group
    /// starts ticking; the pump it triggers answers through the transport. The node used to
    /// get its transport only when the group started, and a node restarted into a busy
    /// cluster crashed on a message that came in between (found by the failover benchmark).
    /// Here a message arrives before `start`: the node must answer it, not trap.
    @Test func aMessageBeforeStartIsAnswered() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (engine, driver) = try Self.openDriver(directory: directory.path)
        defer { try? engine.close() }
        defer { driver.shutdown() }
        let transport = PeerTransport(
            configuration: PeerTransportConfiguration(
                nodeID: driver.nodeID, clusterName: "cohort", clusterSecret: "secret",
                peers: driver.peerAddresses),
            group: driver.raftGroup, logger: Logger(label: "test"), onMessage: { _, _ in })
        driver.attach(transport: transport)
        let leader = ReplicationDriver.nodeID(named: "n2")
        driver.run {
            $0.receive(
                RaftMessage(
                    from: leader, to: driver.nodeID, term: Term(3),
                    body: .heartbeatRequest(leaderCommit: .zero, round: 1)))
        }
        // The message's task schedules a pump behind whatever is queued then; two rounds
        // through the loop get past it.
        try driver.loop.submit {}.wait()
        let seen = try driver.loop.submit { (driver.group.raft.term, driver.group.raft.leader) }
            .wait()
        #expect(seen.0 == Term(3))
        #expect(seen.1 == leader)
    }
}
