import CohortCore
import CohortNode
import CohortStorage
import Logging
import NIOCore

/// One client connection: parses pipelined requests, runs them in order, and writes replies in
/// the same order. A reply that must wait for durability (see `CommandOutcome`) holds back
/// every reply after it, so pipelining never reorders answers.
final class RESPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Replies encoded but waiting for the storage engine's durable sequence to reach
    /// `requiredSequence`. Required sequences only grow along the queue.
    private struct HeldReplies {
        var requiredSequence: UInt64
        var bytes: ByteBuffer
    }

    private let executor: CommandExecutor
    private let server: RESPServer
    private var session: ClientSession
    private var parser: RESPRequestParser
    private let logger: Logger
    /// Received bytes not yet parsed.
    private var cumulation: ByteBuffer?
    /// Replies ready to write at the next flush.
    private var output: ByteBuffer
    private var held: [HeldReplies] = []
    private var heldStart = 0
    private var heldBytes = 0
    /// Whether a durability callback is outstanding for this connection.
    private var awaitingDurability = false
    /// No more requests are run: QUIT, a protocol error, or server shutdown.
    private var closing = false
    private var context: ChannelHandlerContext?

    init(
        executor: CommandExecutor, server: RESPServer, session: ClientSession, logger: Logger
    ) {
        self.executor = executor
        self.server = server
        self.session = session
        self.logger = logger
        let configuration = executor.configuration
        self.parser = RESPRequestParser(
            limits: RESPLimits(
                bulkBytesMax: configuration.bulkBytesMax,
                arrayCountMax: configuration.arrayCountMax,
                inlineBytesMax: configuration.inlineBytesMax))
        self.output = ByteBufferAllocator().buffer(capacity: 0)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        output = context.channel.allocator.buffer(capacity: 1_024)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        executor.statistics.add(\.connectionsReceived)
        let clients = executor.statistics.connectedClients.add(1)
        server.register(context.channel, handler: self)
        if clients > executor.configuration.clientsMax {
            executor.statistics.add(\.connectionsRejected)
            closing = true
            RESPEncoder.writeError("ERR max number of clients reached", into: &output)
            flush(context: context)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        executor.statistics.connectedClients.add(-1)
        server.unregister(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        executor.statistics.add(\.bytesRead, buffer.readableBytes)
        if closing { return }
        if cumulation == nil {
            cumulation = buffer
        } else {
            cumulation!.writeBuffer(&buffer)
        }
        processRequests(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush(context: context)
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // Back-pressure: while the client does not read its replies, stop reading its requests
        // and stop running the ones already buffered; resume when the socket drains.
        if context.channel.isWritable {
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            processRequests(context: context)
            flush(context: context)
        } else {
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug(
            "connection error", metadata: ["client": "\(session.id)", "error": "\(error)"])
        context.close(promise: nil)
    }

    /// Runs every complete request in the buffer, in order.
    private func processRequests(context: ChannelHandlerContext) {
        while !closing, context.channel.isWritable, var buffer = cumulation,
            buffer.readableBytes > 0
        {
            let outcome = buffer.withUnsafeReadableBytes { parser.parse($0) }
            switch outcome {
            case .needMoreData:
                return
            case .ignored(let consumed):
                buffer.moveReaderIndex(forwardBy: consumed)
                cumulation = buffer.readableBytes == 0 ? nil : buffer
                return
            case .protocolError(let message):
                // As Redis does: say what was wrong, then close, since the stream cannot be
                // resynchronised.
                executor.statistics.add(\.protocolErrors)
                logger.info(
                    "protocol error, closing client",
                    metadata: ["client": "\(session.id)", "error": "\(message)"])
                closing = true
                cumulation = nil
                enqueue(
                    CommandOutcome(.error("ERR " + message), closeAfterReply: true),
                    context: context)
                return
            case .command(let arguments, let consumed):
                buffer.moveReaderIndex(forwardBy: consumed)
                cumulation = buffer.readableBytes == 0 ? nil : buffer
                if arguments.isEmpty { continue }
                let outcome = executor.execute(
                    arguments, session: &session, nowMillis: WallClock.nowMillis())
                enqueue(outcome, context: context)
            }
        }
        if var buffer = cumulation, buffer.readerIndex > 64 * 1_024 {
            buffer.discardReadBytes()
            cumulation = buffer
        }
    }

    /// Encodes a reply, either straight into the output or behind the held replies.
    private func enqueue(_ outcome: CommandOutcome, context: ChannelHandlerContext) {
        let required = outcome.durableSequence
        let mustHold =
            heldStart < held.count
            || (required > 0 && required > executor.engine.sequences.durable)
        if mustHold {
            let sequence = max(required, held.last?.requiredSequence ?? 0)
            if heldStart < held.count && held[held.count - 1].requiredSequence == sequence {
                let before = held[held.count - 1].bytes.readableBytes
                outcome.reply.encode(
                    into: &held[held.count - 1].bytes, version: session.protocolVersion)
                heldBytes += held[held.count - 1].bytes.readableBytes - before
            } else {
                var bytes = context.channel.allocator.buffer(capacity: 64)
                outcome.reply.encode(into: &bytes, version: session.protocolVersion)
                heldBytes += bytes.readableBytes
                held.append(HeldReplies(requiredSequence: sequence, bytes: bytes))
            }
            // One outstanding durability callback per connection: when it fires, everything the
            // same fsync covered is released at once, so a pipelined batch costs one event-loop
            // hop and one socket write rather than one per command.
            if !awaitingDurability {
                awaitDurability(of: sequence, context: context)
            }
        } else {
            outcome.reply.encode(into: &output, version: session.protocolVersion)
        }
        if outcome.closeAfterReply { closing = true }
        if output.readableBytes + heldBytes > executor.configuration.clientOutputBytesMax {
            executor.statistics.add(\.outputLimitDisconnects)
            logger.warning(
                "client output limit reached, closing client",
                metadata: [
                    "client": "\(session.id)", "bytes": "\(output.readableBytes + heldBytes)",
                ])
            closing = true
            held.removeAll()
            heldStart = 0
            heldBytes = 0
            output.clear()
            context.close(promise: nil)
        }
    }

    private func awaitDurability(of sequence: UInt64, context: ChannelHandlerContext) {
        awaitingDurability = true
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        executor.engine.whenDurable(Commit(sequence: sequence)) { result in
            loop.execute {
                handler.value.durabilityReached(sequence, result: result)
            }
        }
    }

    /// Releases every held reply whose durability has been reached. If the engine reports that
    /// durability failed, the held replies are dropped and the connection closed: the client
    /// sees an indeterminate outcome, never an acknowledgement that is not true.
    private func durabilityReached(_ sequence: UInt64, result: Result<Void, StorageError>) {
        awaitingDurability = false
        guard let context else { return }
        if case .failure(let error) = result {
            logger.error(
                "durability failed, closing client without acknowledging",
                metadata: ["client": "\(session.id)", "error": "\(error)"])
            held.removeAll()
            heldStart = 0
            heldBytes = 0
            closing = true
            flush(context: context)
            context.close(promise: nil)
            return
        }
        // The fsync that covered `sequence` may have covered later commits too.
        let durable = max(sequence, executor.engine.sequences.durable)
        while heldStart < held.count && held[heldStart].requiredSequence <= durable {
            heldBytes -= held[heldStart].bytes.readableBytes
            output.writeBuffer(&held[heldStart].bytes)
            heldStart += 1
        }
        if heldStart == held.count {
            held.removeAll(keepingCapacity: true)
            heldStart = 0
        } else {
            awaitDurability(of: held[held.count - 1].requiredSequence, context: context)
        }
        flush(context: context)
    }

    /// Writes what is ready; closes once everything owed has been written when closing.
    private func flush(context: ChannelHandlerContext) {
        if output.readableBytes > 0 {
            executor.statistics.add(\.bytesWritten, output.readableBytes)
            let bytes = output
            output = context.channel.allocator.buffer(capacity: 1_024)
            if closing && heldStart == held.count {
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { _ in
                    channel.close(promise: nil)
                }
                return
            }
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        } else if closing && heldStart == held.count {
            context.close(promise: nil)
        }
    }

    /// Server shutdown: run nothing more, send the replies owed, then close.
    func drainAndClose() {
        guard let context else { return }
        closing = true
        cumulation = nil
        flush(context: context)
    }
}
