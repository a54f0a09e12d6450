import CohortCore
import CohortRaft
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The outbound side of the transport for one peer: its bounded queue, the connection this node
/// dials to it, reconnection with backoff, and batched writes.
///
/// Concurrency: the queue and the flags next to it are behind a lock, because ``enqueue(_:)``
/// is called from any thread. Everything else (`channel`, `backoff`, the scheduled reconnect,
/// the scratch buffer) is touched only on `eventLoop`, which every method that uses it checks;
/// that confinement is why the class is `@unchecked Sendable`.
final class PeerLink: @unchecked Sendable {
    /// State shared between callers of ``enqueue(_:)`` and the event loop.
    private struct Shared {
        var queue: PeerOutboundQueue
        /// A connection is authenticated and writable: a flush can make progress.
        var canWrite = false
        /// A flush is already scheduled on the event loop.
        var flushScheduled = false
        var isShutDown = false
    }

    let peerID: NodeID
    let address: PeerAddress
    let eventLoop: any EventLoop
    private let context: PeerTransportContext
    private let shared: NIOLockedValueBox<Shared>

    // Event-loop confined.
    private var channel: (any Channel)?
    private var isAuthenticated = false
    private var backoff: PeerReconnectBackoff
    private var reconnect: Scheduled<Void>?
    private var scratch: [UInt8] = []

    init(
        peerID: NodeID, address: PeerAddress, eventLoop: any EventLoop,
        context: PeerTransportContext
    ) {
        let configuration = context.configuration
        self.peerID = peerID
        self.address = address
        self.eventLoop = eventLoop
        self.context = context
        self.shared = NIOLockedValueBox(
            Shared(
                queue: PeerOutboundQueue(
                    messagesMax: configuration.outboundQueueMessagesMax,
                    bytesMax: configuration.outboundQueueBytesMax)))
        // Each link draws its own jitter sequence from the configured seed and the peer's id.
        var seeder = SplitMix64(seed: configuration.reconnectJitterSeed ^ peerID.rawValue)
        self.backoff = PeerReconnectBackoff(
            delayMillisMin: configuration.reconnectDelayMillisMin,
            delayMillisMax: configuration.reconnectDelayMillisMax, seed: seeder.next())
    }

    /// Messages waiting for this peer.
    var queuedMessages: Int { shared.withLockedValue { $0.queue.count } }

    /// Queues `message` for the peer and schedules a flush when one can make progress. Any
    /// thread.
    func enqueue(_ message: PeerOutbound) {
        let size: Int
        size = message.encodedByteCount
        let (dropped, mustSchedule) = shared.withLockedValue { state -> (Int, Bool) in
            guard !state.isShutDown else { return (0, false) }
            let dropped = state.queue.append(message, size: size)
            guard state.canWrite, !state.flushScheduled else { return (dropped, false) }
            state.flushScheduled = true
            return (dropped, true)
        }
        if dropped > 0 { context.count(\.messagesDroppedQueueFull, dropped) }
        if mustSchedule {
            eventLoop.execute { self.flush() }
        }
    }

    /// Writes a batch of what is queued now instead of after the current event-loop task, when
    /// called on the link's own loop (elsewhere it does nothing; the scheduled flush runs).
    func flushIfOnLoop() {
        guard eventLoop.inEventLoop else { return }
        flush()
    }

    /// Starts dialling. Any thread.
    func start() {
        eventLoop.execute { self.connect() }
    }

    /// Stops dialling, drops queued messages and closes the connection; the future completes
    /// once it is closed. Any thread.
    func shutdown() -> EventLoopFuture<Void> {
        shared.withLockedValue { state in
            state.isShutDown = true
            state.canWrite = false
            state.queue.removeAll()
        }
        return eventLoop.submit { () -> (any Channel)? in
            self.reconnect?.cancel()
            self.reconnect = nil
            return self.channel
        }.flatMap { channel -> EventLoopFuture<Void> in
            guard let channel else { return self.eventLoop.makeSucceededVoidFuture() }
            channel.close(promise: nil)
            return channel.closeFuture
        }
    }

    private var isShutDown: Bool { shared.withLockedValue { $0.isShutDown } }

    private func connect() {
        eventLoop.preconditionInEventLoop()
        reconnect = nil
        guard !isShutDown, channel == nil else { return }
        let configuration = context.configuration
        let context = self.context
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.milliseconds(configuration.connectTimeoutMillis))
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelOption(
                ChannelOptions.writeBufferWaterMark,
                value: .init(
                    low: configuration.writeBufferLowBytes,
                    high: configuration.writeBufferHighBytes)
            )
            .channelInitializer { channel in
                // Runs on `eventLoop` before the connection is active, so a close can never
                // arrive for a channel the link does not know yet.
                self.channel = channel
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        PeerConnectionHandler(role: .dialer(self), context: context))
                }
            }
        bootstrap.connect(host: address.host, port: address.port).whenFailure { error in
            self.context.logger.debug(
                "peer connect failed",
                metadata: [
                    "peer": "\(self.peerID)", "address": "\(self.address)", "error": "\(error)",
                ])
            self.channel = nil
            self.isAuthenticated = false
            self.scheduleReconnect()
        }
    }

    private func scheduleReconnect() {
        eventLoop.preconditionInEventLoop()
        guard !isShutDown, reconnect == nil else { return }
        context.count(\.reconnectsScheduled)
        let delay = backoff.nextDelayMillis()
        reconnect = eventLoop.scheduleTask(in: .milliseconds(delay)) { self.connect() }
    }

    /// The dialer handler authenticated `channel`: start writing.
    func connectionAuthenticated(_ channel: any Channel) {
        eventLoop.preconditionInEventLoop()
        guard self.channel === channel else { return }
        isAuthenticated = true
        backoff.reset()
        context.count(\.connectionsEstablished)
        context.logger.info(
            "peer connected", metadata: ["peer": "\(peerID)", "address": "\(address)"])
        writabilityChanged(channel)
    }

    /// `channel` became writable or unwritable (NIO's write buffer water marks).
    func writabilityChanged(_ channel: any Channel) {
        eventLoop.preconditionInEventLoop()
        guard self.channel === channel, isAuthenticated else { return }
        let writable = channel.isWritable
        let mustFlush = shared.withLockedValue { state -> Bool in
            state.canWrite = writable && !state.isShutDown
            guard state.canWrite, !state.flushScheduled, !state.queue.isEmpty else {
                return false
            }
            state.flushScheduled = true
            return true
        }
        if mustFlush { flush() }
    }

    /// `channel` closed, authenticated or not: dial again after a backoff delay.
    func connectionClosed(_ channel: any Channel) {
        eventLoop.preconditionInEventLoop()
        guard self.channel === channel else { return }
        if isAuthenticated {
            context.logger.info(
                "peer disconnected", metadata: ["peer": "\(peerID)", "address": "\(address)"])
        }
        self.channel = nil
        isAuthenticated = false
        shared.withLockedValue { $0.canWrite = false }
        scheduleReconnect()
    }

    /// Writes one batch of queued messages as frames with one socket write, and schedules
    /// itself again while more remain.
    private func flush() {
        eventLoop.preconditionInEventLoop()
        let configuration = context.configuration
        let batch = shared.withLockedValue { state -> [PeerOutbound] in
            guard state.canWrite else {
                state.flushScheduled = false
                return []
            }
            let batch = state.queue.removeBatch(
                messagesMax: configuration.batchMessagesMax, bytesMax: configuration.batchBytesMax)
            if state.queue.isEmpty { state.flushScheduled = false }
            return batch
        }
        guard !batch.isEmpty, let channel, isAuthenticated else { return }
        scratch.removeAll(keepingCapacity: true)
        for message in batch { message.encode(into: &scratch) }
        var buffer = channel.allocator.buffer(capacity: scratch.count)
        buffer.writeBytes(scratch)
        channel.writeAndFlush(buffer, promise: nil)
        context.count(\.messagesSent, batch.count)
        // Keep the scratch buffer from pinning a rare huge batch forever.
        if scratch.capacity > 4 * configuration.batchBytesMax { scratch = [] }
        let more = shared.withLockedValue { $0.flushScheduled }
        if more {
            eventLoop.execute { self.flush() }
        }
    }
}
