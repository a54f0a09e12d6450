import CohortCore
import CohortRaft
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Carries Raft messages between the nodes of a cluster over TCP.
///
/// - Listens on the configured peer port and dials every configured peer at exactly the address
///   given. Each node sends on the connection it dialled and receives on the connections it
///   accepted, so two nodes dialling each other at once need no tie-break.
/// - Every connection starts with a handshake in which both ends prove they share the cluster
///   secret (see ``PeerAuthenticator``: against misconfiguration, not attackers).
/// - Messages travel as checksummed frames (``PeerFrame``); queued messages are written in
///   batches, one socket write per flush.
/// - Each peer has a bounded queue (``PeerTransportConfiguration/outboundQueueMessagesMax``,
///   ``PeerTransportConfiguration/outboundQueueBytesMax``). While a peer is down or its socket
///   is full, messages wait there and, past the bound, the oldest are dropped and counted:
///   Raft tolerates lost messages, and the newest carry the current state.
/// - A lost or failed connection is redialled after an exponential, jittered backoff.
/// - Received messages go to `onMessage` on the event loop of the connection they came on.
///   Malformed input closes only the connection it came on.
public final class PeerTransport: Sendable {
    /// The configuration the transport was created with.
    public let configuration: PeerTransportConfiguration
    private let group: any EventLoopGroup
    private let context: PeerTransportContext
    private let links = NIOLockedValueBox(Links())
    private let serverChannel = NIOLockedValueBox<(any Channel)?>(nil)

    /// The peers' links and whether dialling has begun.
    private struct Links {
        var byPeer: [NodeID: PeerLink] = [:]
        var isStarted = false
        var isShutDown = false
    }

    /// Creates a transport; nothing happens until ``start()``. The caller owns `group` and
    /// shuts it down after ``shutdown()``. Traps on an invalid configuration. With `identity`,
    /// a peer whose data directory is not the one this node remembers is refused (see
    /// ``NodeIdentity``); without, no peer's is checked.
    public init(
        configuration: PeerTransportConfiguration, group: any EventLoopGroup,
        identity: NodeIdentityStore? = nil, logger: Logger,
        onMessage: @escaping @Sendable (UInt64, RaftMessage) -> Void,
        onForward: @escaping @Sendable (NodeID, UInt64, [UInt8]) -> Void = { _, _, _ in }
    ) {
        configuration.validate()
        self.configuration = configuration
        self.group = group
        let context = PeerTransportContext(
            configuration: configuration, identity: identity, logger: logger,
            onMessage: onMessage,
            onForward: onForward)
        self.context = context
        links.withLockedValue { links in
            for (peer, address) in configuration.peers {
                links.byPeer[peer] = PeerLink(
                    peerID: peer, address: address, eventLoop: group.next(), context: context)
            }
        }
    }

    /// Binds the peer port and starts dialling every peer; returns the port actually bound
    /// (useful with port 0). Blocks until bound: call it off the event loops.
    public func start() throws -> Int {
        let configuration = configuration
        let context = context
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 128)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(
                ChannelOptions.writeBufferWaterMark,
                value: .init(
                    low: configuration.writeBufferLowBytes,
                    high: configuration.writeBufferHighBytes)
            )
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        PeerConnectionHandler(role: .acceptor, context: context))
                }
            }
        let channel = try bootstrap.bind(host: configuration.bindHost, port: configuration.port)
            .wait()
        serverChannel.withLockedValue { $0 = channel }
        let toStart = links.withLockedValue { links -> [PeerLink] in
            links.isStarted = true
            return links.byPeer.keys.sorted().compactMap { links.byPeer[$0] }
        }
        for link in toStart {
            link.start()
        }
        let port = channel.localAddress?.port ?? configuration.port
        context.logger.info(
            "peer transport listening",
            metadata: ["node": "\(configuration.nodeID)", "port": "\(port)"])
        return port
    }

    /// Queues `message` of replication group `group` (0: the default keyspace) for
    /// `message.to`. Never blocks; any thread. A message to an unknown node or to this node is
    /// dropped and counted.
    public func send(_ message: RaftMessage, group: UInt64 = 0) {
        guard let link = links.withLockedValue({ $0.byPeer[message.to] }) else {
            context.count(\.messagesDroppedUnknownPeer)
            return
        }
        link.enqueue(.raft(message, group: group))
    }

    /// Queues an application payload for `peer`, delivered to its `onForward` in order with
    /// the other payloads this node sends it. Dropped (and counted) like a Raft message when
    /// the peer is unknown or its queue overflows: the sender must time out.
    public func sendForward(_ payload: [UInt8], to peer: NodeID, group: UInt64 = 0) {
        guard let link = links.withLockedValue({ $0.byPeer[peer] }) else {
            context.count(\.messagesDroppedUnknownPeer)
            return
        }
        link.enqueue(.forward(payload, group: group))
    }

    /// Writes what is queued for the peers whose links run on the calling event loop now,
    /// rather than after the caller's task. The raft loop calls it right after handing its
    /// messages over, so they leave before it blocks in fsync or applies entries.
    public func flushQueuedOnCurrentLoop() {
        let onLoop = links.withLockedValue { links in
            links.byPeer.values.filter { $0.eventLoop.inEventLoop }
        }
        for link in onLoop { link.flushIfOnLoop() }
    }

    /// Messages waiting for `peer` (zero for an unknown peer).
    public func queuedMessages(to peer: NodeID) -> Int {
        links.withLockedValue { $0.byPeer[peer] }?.queuedMessages ?? 0
    }

    /// Starts sending to `peer` at `address` (a node joined, or moved). Replaces the link to
    /// a peer already known at another address; its queued messages are dropped. Any thread.
    public func addPeer(_ peer: NodeID, address: PeerAddress) {
        precondition(
            peer != .none && peer != configuration.nodeID,
            "cannot add \(peer) as a peer of \(configuration.nodeID)")
        let (added, replaced, start) = links.withLockedValue {
            links -> (PeerLink?, PeerLink?, Bool) in
            guard !links.isShutDown else { return (nil, nil, false) }
            let existing = links.byPeer[peer]
            if existing?.address == address { return (nil, nil, false) }
            let link = PeerLink(
                peerID: peer, address: address, eventLoop: group.next(), context: context)
            links.byPeer[peer] = link
            return (link, existing, links.isStarted)
        }
        _ = replaced?.shutdown()
        if start { added?.start() }
    }

    /// Stops sending to `peer` (a node left) and drops its queued messages. Any thread.
    public func removePeer(_ peer: NodeID) {
        let removed = links.withLockedValue { $0.byPeer.removeValue(forKey: peer) }
        _ = removed?.shutdown()
    }

    /// The transport's counters.
    public var statistics: PeerTransportStatistics { context.statistics }

    /// Stops listening and dialling, drops queued messages, and closes every connection.
    /// Blocks until they are closed: call it off the event loops. Safe to call twice.
    public func shutdown() {
        let inbound = context.beginShutdown()
        let server = serverChannel.withLockedValue { channel -> (any Channel)? in
            defer { channel = nil }
            return channel
        }
        try? server?.close().wait()
        for inboundChannel in inbound {
            inboundChannel.close(promise: nil)
        }
        let all = links.withLockedValue { links -> [PeerLink] in
            links.isShutDown = true
            defer { links.byPeer.removeAll() }
            return links.byPeer.keys.sorted().compactMap { links.byPeer[$0] }
        }
        for link in all {
            try? link.shutdown().wait()
        }
        for inboundChannel in inbound {
            try? inboundChannel.closeFuture.wait()
        }
    }
}
