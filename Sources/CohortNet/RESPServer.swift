import CohortCore
import CohortNode
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The client-facing RESP server: accepts connections and gives each a
/// `RESPConnectionHandler`. Shutdown stops accepting, lets each connection send the replies it
/// owes, and then closes it.
public final class RESPServer: @unchecked Sendable {
    private let executor: CommandExecutor
    /// A clustered node's replication groups; nil for a standalone node.
    let cluster: ClusterNode?
    private let group: MultiThreadedEventLoopGroup
    /// False when `group` is the default replication group's raft loop, which the cluster
    /// shuts down.
    private let ownsGroup: Bool
    /// One reply flusher per event loop, by the loop's identity.
    private let flushers: [ObjectIdentifier: ReplyFlusher]
    private let logger: Logger
    private var serverChannel: Channel?
    private let nextClientID = NIOLockedValueBox<UInt64>(0)
    private let connections = NIOLockedValueBox<
        [ObjectIdentifier: (Channel, NIOLoopBound<RESPConnectionHandler>)]
    >([:])

    /// Bytes NIO may queue for a client before the handler stops reading from it.
    static let writeBufferHighBytes = 1 << 20
    static let writeBufferLowBytes = 256 << 10

    public init(executor: CommandExecutor, cluster: ClusterNode? = nil, logger: Logger) {
        self.executor = executor
        self.cluster = cluster
        self.logger = logger
        let threads = executor.configuration.threads
        if let cluster, threads == 0 {
            // A clustered node's writes and linearizable reads all run on the default group's
            // raft loop, so its clients are served there too: a request reaches Raft and its
            // reply leaves without a thread hop (two wake-ups and context switches per write
            // otherwise, which cost more CPU than anything else on the write path). Requests
            // that arrive while the loop is in fsync wait in the socket and join the next batch.
            self.group = cluster.defaultGroup.driver.raftGroup
            self.ownsGroup = false
        } else {
            self.group = MultiThreadedEventLoopGroup(
                numberOfThreads: threads > 0 ? threads : Self.defaultThreads(System.coreCount))
            self.ownsGroup = true
        }
        var flushers: [ObjectIdentifier: ReplyFlusher] = [:]
        for loop in group.makeIterator() {
            flushers[ObjectIdentifier(loop)] = ReplyFlusher(eventLoop: loop)
        }
        self.flushers = flushers
    }

    /// Event loops of a standalone node when the configuration leaves it open. It runs every
    /// command under the storage engine's one lock, so event loops beyond a few only contend
    /// for it and for the cores that the group-commit thread and local clients need: half the
    /// cores, at least one.
    static func defaultThreads(_ coreCount: Int) -> Int {
        max(1, coreCount / 2)
    }

    /// Binds the configured address and port; returns the port actually bound (useful with 0).
    public func start() throws -> Int {
        let configuration = executor.configuration
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 511)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelOption(
                ChannelOptions.writeBufferWaterMark,
                value: .init(low: Self.writeBufferLowBytes, high: Self.writeBufferHighBytes)
            )
            .childChannelInitializer { [self] channel in
                let id = nextClientID.withLockedValue { value -> UInt64 in
                    value += 1
                    return value
                }
                let address = channel.remoteAddress.map { "\($0)" } ?? "unknown"
                let session = ClientSession(
                    id: id, address: address, authenticated: configuration.password == nil)
                guard let flusher = flushers[ObjectIdentifier(channel.eventLoop)] else {
                    preconditionFailure("a connection on an event loop of another group")
                }
                let handler = RESPConnectionHandler(
                    executor: executor, server: self, session: session, flusher: flusher,
                    logger: logger)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel = try bootstrap.bind(host: configuration.bindAddress, port: configuration.port)
            .wait()
        serverChannel = channel
        return channel.localAddress?.port ?? configuration.port
    }

    func register(_ channel: Channel, handler: RESPConnectionHandler) {
        let bound = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        connections.withLockedValue { $0[ObjectIdentifier(channel)] = (channel, bound) }
    }

    func unregister(_ channel: Channel) {
        _ = connections.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Stops accepting, drains every connection (bounded by `drainSeconds`), and stops the
    /// event loops. The caller closes the storage engine afterwards.
    public func shutdown(drainSeconds: Int64 = 5) {
        try? serverChannel?.close().wait()
        let open = connections.withLockedValue { Array($0.values) }
        let closed = open.map { channel, handler in
            channel.eventLoop.execute { handler.value.drainAndClose() }
            return channel.closeFuture
        }
        if !closed.isEmpty, let loop = closed.first?.eventLoop {
            let all = EventLoopFuture.andAllComplete(closed, on: loop)
            let deadline = loop.scheduleTask(in: .seconds(drainSeconds)) {
                for (channel, _) in open { channel.close(promise: nil) }
            }
            try? all.wait()
            deadline.cancel()
        }
        if ownsGroup { try? group.syncShutdownGracefully() }
    }
}
