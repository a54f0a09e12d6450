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
        let configuration = Self.configuration(directory: directory.path)
        let engine = try StorageEngine.open(
            directory: directory.path, options: StorageOptions(), nowMillis: 1_000)
        defer { try? engine.close() }
        let executor = CommandExecutor(
            engine: engine, configuration: configuration, statistics: ServerStatistics(),
            startedAtMillis: 1_000)
        let driver = try ReplicationDriver(
            configuration: configuration, executor: executor, logger: Logger(label: "test"))
        #expect(driver.node.term == Term(7))
        #expect(driver.node.votedFor == candidate)
        #expect(driver.syncedHardState.term == Term(7))
    }
}
