import CohortCore
import CohortNode
import CohortReplication
import CohortStorage
import Dispatch
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

    /// Runs commands against the engine of the session's keyspace.
    var executor: CommandExecutor
    private let server: RESPServer
    /// Set on a clustered node: its keyspaces' groups.
    let cluster: ClusterNode?
    /// Set on a clustered node: the session's keyspace's group, through which writes and reads
    /// go (see `ClusterCommandKind`).
    var driver: ReplicationDriver?
    /// Set while the session uses a keyspace this node does not replicate (or only witnesses):
    /// its reads, writes and WAITs are proxied to a member (see `NodeShell`).
    var remoteKeyspace: String?
    /// The leaderless keyspace the session uses (COHORT USE), when this node is one of its
    /// nodes: its commands run there (`RESPConnectionHandler+Leaderless`).
    var leaderless: LeaderlessSession?
    /// Cluster mode: replies in request order, filled as their commands complete.
    private var slots: [ByteBuffer?] = []
    /// The number of the reply in `slots[0]` (replies are numbered from 0 per connection).
    private var slotBase = 0
    /// Cluster mode: commands running asynchronously, all of one kind.
    var inFlight = 0
    private var inFlightKind = ClusterCommandKind.local
    /// Cluster mode: a parsed command that must wait for the ones in flight.
    private var stalled: [[UInt8]]?
    var session: ClientSession
    private var parser: RESPRequestParser
    private let logger: Logger
    /// Received bytes not yet parsed.
    private var cumulation: ByteBuffer?
    /// Requests parsed ahead and not yet run, from `parsedNext` on (see `nextRequest`).
    private var parsed: [[[UInt8]]] = []
    private var parsedNext = 0
    /// A protocol error met while parsing ahead, answered after the requests before it.
    private var parsedError: String?
    /// Replies ready to write at the next flush.
    private var output: ByteBuffer
    private var held: [HeldReplies] = []
    private var heldStart = 0
    private var heldBytes = 0
    /// Whether the next held reply may join the last held group: true within one read's
    /// worth of pipelined requests, so that a batch of writes is held as one buffer that the
    /// same fsync releases, not one buffer per reply. A new read starts a new group, so a
    /// client that streams writes without pause still sees its earlier replies released.
    private var heldJoinsLast = false
    /// Whether a durability callback is outstanding for this connection.
    private var awaitingDurability = false
    /// With deferred appends (`AcknowledgementPoint.written`): the highest sequence the replies
    /// in `output` depend on. The flush writes the engine's records through it first, and holds
    /// the output while that fails (a full disk), trying again later (see `ReplyFlusher`).
    private var outputAwaits: UInt64 = 0
    /// Whether the output is held because the engine cannot write its records.
    private var outputBlocked = false
    /// No more requests are run: QUIT, a protocol error, or server shutdown.
    private var closing = false
    /// Writes this connection's replies at the end of the loop's turn (see `ReplyFlusher`).
    private let flusher: ReplyFlusher
    /// Whether this connection waits in the flusher's list.
    private var flushRequested = false
    /// The channel's writability as its last change reported it: read on every request, and
    /// cheaper here than asking the channel each time.
    private var channelWritable = true
    var context: ChannelHandlerContext?
    /// A client parked in a blocking command (see `RESPConnectionHandler+Blocking`).
    var blocked: BlockedClient?
    /// The largest output buffer kept for the next replies; a larger one (a big value was
    /// sent) is dropped after its flush.
    static let outputKeptBytesMax = 64 << 10
    /// The most requests parsed ahead in one run, and about the most bytes of them (see
    /// `nextRequest`): enough for the pipelines clients send, few enough that the prefetched
    /// lines are still in the cache when their commands run.
    static let parseAheadRequestsMax = 32
    /// Cluster mode: commands of one connection running at once (a pipeline's writes overlap).
    /// Past it the connection stops reading until they are all answered: a client pipelining
    /// without bound is held back by TCP, not by the server's memory.
    static let clusterCommandsInFlightMax = 1_024
    static let parseAheadBytesMax = 16 << 10
    /// Requests run on one clock reading, at most (see `processRequests`).
    static let requestsPerClockReading = 64
    /// A finished slot whose reply was written to the output directly.
    private static let emptyReply = ByteBuffer()

    init(
        executor: CommandExecutor, server: RESPServer, session: ClientSession,
        flusher: ReplyFlusher, logger: Logger
    ) {
        self.executor = executor
        self.flusher = flusher
        self.server = server
        self.cluster = server.cluster
        self.driver = server.cluster?.defaultGroup.driver
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
        stopBlocking()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        executor.statistics.bytesRead.add(buffer.readableBytes)
        if closing { return }
        if cumulation == nil {
            cumulation = buffer
        } else {
            cumulation!.writeBuffer(&buffer)
        }
        processRequests(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushLater()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // Back-pressure: while the client does not read its replies, stop reading its requests
        // and stop running the ones already buffered; resume when the socket drains.
        channelWritable = context.channel.isWritable
        if channelWritable {
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
    func processRequests(context: ChannelHandlerContext) {
        heldJoinsLast = false
        if let command = stalled {
            guard startClusterCommand(command, context: context) else { return }
            stalled = nil
        }
        // One clock reading serves a run of requests (as Redis takes one per command, but the
        // system call showed in profiles of pipelined GETs); it is renewed every
        // `requestsPerClockReading` requests so that a long pipeline never runs on a stale one.
        var nowMillis = WallClock.nowMillis()
        var requestsSinceClockReading = 0
        while !closing, channelWritable, blocked == nil,
            let arguments = nextRequest(context: context)
        {
            requestsSinceClockReading += 1
            if requestsSinceClockReading == Self.requestsPerClockReading {
                nowMillis = WallClock.nowMillis()
                requestsSinceClockReading = 0
            }
            if cluster != nil {
                if !startClusterCommand(arguments, context: context) {
                    stalled = arguments
                    return
                }
                continue
            }
            if let wait = executor.blockingWait(for: arguments, session: session) {
                startBlocking(arguments, wait, context: context)
                continue
            }
            let outcome = executor.execute(arguments, session: &session, nowMillis: nowMillis)
            enqueue(outcome, context: context)
        }
        if var buffer = cumulation, buffer.readerIndex > 64 * 1_024 {
            buffer.discardReadBytes()
            cumulation = buffer
        }
    }

    /// The next request to run, or nil when no complete one is buffered (or the stream broke:
    /// then the error reply is queued and the connection closes after it).
    ///
    /// Requests are parsed ahead in runs (`parseAhead`) and the keys of a run are prefetched
    /// together before its first command runs, so that a pipeline's index lookups wait for
    /// memory at once rather than one after another. The commands still run one by one, in
    /// order, each seeing every earlier one's effect: the prefetch is only a hint.
    private func nextRequest(context: ChannelHandlerContext) -> [[UInt8]]? {
        if parsedNext < parsed.count {
            parsedNext += 1
            return parsed[parsedNext - 1]
        }
        parsed.removeAll(keepingCapacity: true)
        parsedNext = 0
        if parsedError == nil {
            // Cluster mode runs requests asynchronously and may stall on one: one at a time.
            parseAhead(requestsMax: cluster == nil ? Self.parseAheadRequestsMax : 1)
        }
        if parsed.isEmpty {
            if let message = parsedError {
                parsedError = nil
                failProtocol(message, context: context)
            }
            return nil
        }
        if parsed.count > 1 { executor.prefetchKeys(of: parsed[...]) }
        parsedNext = 1
        return parsed[0]
    }

    /// Parses up to `requestsMax` complete requests (and at most about
    /// `parseAheadBytesMax` bytes of them) from the buffer into `parsed`. A protocol error
    /// ends the run and is kept in `parsedError`, to be answered once the requests before it
    /// have run.
    private func parseAhead(requestsMax: Int) {
        var bytes = 0
        while parsed.count < requestsMax, bytes < Self.parseAheadBytesMax,
            var buffer = cumulation, buffer.readableBytes > 0
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
                parsedError = message
                cumulation = nil
                return
            case .command(let arguments, let consumed):
                buffer.moveReaderIndex(forwardBy: consumed)
                cumulation = buffer.readableBytes == 0 ? nil : buffer
                bytes += consumed
                if !arguments.isEmpty { parsed.append(arguments) }
            }
        }
    }

    /// Answers a protocol error and closes, as Redis does: say what was wrong, then close,
    /// since the stream cannot be resynchronised.
    private func failProtocol(_ message: String, context: ChannelHandlerContext) {
        executor.statistics.add(\.protocolErrors)
        logger.info(
            "protocol error, closing client",
            metadata: ["client": "\(session.id)", "error": "\(message)"])
        closing = true
        cumulation = nil
        enqueue(CommandOutcome(.error("ERR " + message), closeAfterReply: true), context: context)
    }

    /// Encodes a reply, either straight into the output or behind the held replies.
    func enqueue(_ outcome: CommandOutcome, context: ChannelHandlerContext) {
        let required = outcome.awaitedSequence
        let engine = executor.engine
        let mustHold =
            heldStart < held.count
            || (required > 0 && engine.acknowledgementPoint == .durable
                && required > engine.sequences.durable)
        if mustHold {
            let sequence = max(required, held.last?.requiredSequence ?? 0)
            if heldStart < held.count
                && (heldJoinsLast || held[held.count - 1].requiredSequence == sequence)
            {
                // Waiting for the later sequence also covers the earlier replies of the group.
                held[held.count - 1].requiredSequence = sequence
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
            heldJoinsLast = true
            // One request per connection and turn: the loop's flusher syncs once for all of its
            // connections at the end of the turn and releases what the fsync covered.
            if !awaitingDurability {
                requestDurability(of: sequence)
            }
        } else {
            outcome.reply.encode(into: &output, version: session.protocolVersion)
            // Under batch a requirement reaching here is durable already, hence written, and
            // the flush passes at once; only deferred appends make the flush write first.
            if required > outputAwaits { outputAwaits = required }
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
            outputAwaits = 0
            context.close(promise: nil)
        }
    }

    /// Asks the loop's flusher to make `sequence` durable at the end of this turn (see
    /// `ReplyFlusher.syncLater`).
    private func requestDurability(of sequence: UInt64) {
        awaitingDurability = true
        flusher.syncLater(self, engine: executor.engine, through: sequence)
    }

    /// Releases every held reply whose durability has been reached; the flusher's call after
    /// its fsync. If the engine reports that durability failed, the held replies are dropped
    /// and the connection closed: the client sees an indeterminate outcome, never an
    /// acknowledgement that is not true.
    func durabilityReached(_ sequence: UInt64, result: Result<Void, StorageError>) {
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
            requestDurability(of: held[held.count - 1].requiredSequence)
        }
        flushLater()
    }

    // MARK: Cluster mode

    /// Starts `arguments` unless it must wait for the commands in flight; returns false then.
    /// Writes may overlap writes and reads may overlap reads; anything else waits until the
    /// connection is idle, so a pipeline behaves as if run in order.
    private func startClusterCommand(
        _ arguments: [[UInt8]], context: ChannelHandlerContext
    ) -> Bool {
        guard let driver, let cluster else { return true }
        // A blocked client runs nothing else until it is answered.
        guard blocked == nil else { return false }
        if session.authenticated, let verb = KeyspaceCommand(arguments) {
            guard inFlight == 0 else { return false }
            startKeyspaceCommand(verb, arguments, cluster: cluster, context: context)
            return true
        }
        if let leaderless, session.authenticated,
            let started = startLeaderlessCommand(arguments, leaderless, context: context)
        {
            return started
        }
        let kind = ClusterCommandKind(arguments, executor: executor, session: session)
        if inFlight > 0 && (kind != inFlightKind || kind == .local || kind == .wait) {
            return false
        }
        if inFlight >= Self.clusterCommandsInFlightMax { return false }
        if kind == .write, let wait = executor.blockingWait(for: arguments, session: session) {
            guard inFlight == 0 else { return false }
            startBlocking(arguments, wait, context: context)
            return true
        }
        // EXEC after MULTI: the leader runs the whole queue as one write.
        let arguments = executor.submission(of: arguments, kind: kind, session: &session)
        // A SCAN cursor another node issued continues there (a client that moved between
        // nodes): only the issuer knows where its next page starts.
        var remote = remoteKeyspace
        if remote == nil, kind == .read {
            switch scanContinuation(arguments, cluster: cluster) {
            case .defaultKeyspace(let issuer)?:
                let pending = beginAsync(kind, context: context)
                cluster.proxyDefaultScan(
                    arguments, issuer: issuer, token: session.token,
                    consistency: session.readConsistency, completion: pending.finish)
                return true
            case .keyspace(let name)?:
                remote = name
            case nil:
                break
            }
        }
        if let remote, kind != .local {
            let pending = beginAsync(kind, context: context)
            cluster.proxy(
                arguments, to: remote, isWrite: kind != .read, token: session.token,
                ackMode: session.ackMode ?? cluster.catalog.definition(named: remote)?.ackMode
                    ?? executor.configuration.ackMode,
                consistency: session.readConsistency,
                completion: pending.finish)
            return true
        }
        if kind == .local {
            let outcome = executor.execute(
                arguments, session: &session, nowMillis: WallClock.nowMillis())
            var bytes = context.channel.allocator.buffer(capacity: 64)
            outcome.reply.encode(into: &bytes, version: session.protocolVersion)
            if outcome.closeAfterReply { closing = true }
            appendSlot(bytes, context: context)
            return true
        }
        let pending = beginAsync(kind, context: context)
        switch kind {
        case .write, .wait:
            driver.submitWrite(
                arguments, token: session.token,
                ackMode: session.ackMode ?? executor.configuration.ackMode,
                completion: pending.finish)
        case .read:
            driver.submitRead(consistency: session.readConsistency, token: session.token) {
                gate in
                pending.loop.execute {
                    pending.handler.value.readGateOpened(pending.slot, arguments, gate)
                }
            }
        case .local:
            break
        }
        return true
    }

    /// Where a SCAN that continues another node's cursor runs.
    private enum ScanContinuation {
        /// On the issuer, a member of the default keyspace.
        case defaultKeyspace(issuer: String)
        /// In the session's keyspace, whose member issued it (the shell routes it there).
        case keyspace(String)
    }

    /// Where `arguments` go when they continue a SCAN whose cursor another node issued; nil
    /// for anything else, and for an issuer that is not a member (SCAN then fails with a clear
    /// error).
    private func scanContinuation(_ arguments: [[UInt8]], cluster: ClusterNode)
        -> ScanContinuation?
    {
        guard let cursor = ScanCursor.continuing(arguments),
            cursor.tag != ScanCursor.tag(ofNode: executor.configuration.nodeName)
        else { return nil }
        let issuedIt = { (member: String) in ScanCursor.tag(ofNode: member) == cursor.tag }
        if session.keyspace == KeyspaceDefinition.defaultName {
            return cluster.defaultDataMembers.first(where: issuedIt).map {
                .defaultKeyspace(issuer: $0)
            }
        }
        guard let definition = cluster.catalog.definition(named: session.keyspace),
            (definition.voters + definition.learners).contains(where: issuedIt)
        else { return nil }
        return .keyspace(definition.name)
    }

    /// COHORT USE and COHORT KEYSPACE, which need the node's groups rather than one engine.
    private func startKeyspaceCommand(
        _ verb: KeyspaceCommand, _ arguments: [[UInt8]], cluster: ClusterNode,
        context: ChannelHandlerContext
    ) {
        func reply(_ value: RESPValue) {
            var bytes = context.channel.allocator.buffer(capacity: 64)
            value.encode(into: &bytes, version: session.protocolVersion)
            appendSlot(bytes, context: context)
        }
        switch verb {
        case .use(let name):
            if let definition = cluster.catalog.definition(named: name),
                definition.strategy.leaderless != nil
            {
                guard let host = cluster.leaderlessHost(named: name) else {
                    return reply(
                        .error(
                            "ERR this node is not one of leaderless keyspace \(name)'s nodes "
                                + "(\(definition.voters.joined(separator: ","))): connect to one of them"
                        ))
                }
                if name != session.keyspace {
                    session.tokensByKeyspace[session.keyspace] = session.token
                    session.token = 0
                    session.keyspace = name
                }
                leaderless = LeaderlessSession(host: host)
                return reply(.ok)
            }
            leaderless = nil
            let group = cluster.group(named: name)
            let definition = cluster.catalog.definition(named: name)
            // Not replicated here, or only as a witness (no data): commands are proxied to a
            // data member; local ones (PING, INFO, COHORT ...) run here.
            let isWitnessHere =
                definition?.witnesses.contains(executor.configuration.nodeName) ?? false
            guard group != nil || definition != nil else {
                return reply(
                    .error("ERR no such keyspace \(name) (create it with COHORT KEYSPACE CREATE)"))
            }
            if name != session.keyspace {
                session.tokensByKeyspace[session.keyspace] = session.token
                session.token = session.tokensByKeyspace.removeValue(forKey: name) ?? 0
                session.keyspace = name
            }
            let serving = group ?? cluster.defaultGroup
            executor = serving.executor
            driver = serving.driver
            remoteKeyspace = group == nil || isWitnessHere ? name : nil
            reply(.ok)
        case .list:
            let local = Set(cluster.keyspaceGroups.map(\.keyspace)).union(
                cluster.leaderlessHosts.withLockedValue { $0.values.map(\.definition.name) })
            let lines = cluster.catalog.sorted.map { definition in
                definition.summary + (local.contains(definition.name) ? " here=yes" : " here=no")
            }
            reply(.array(lines.map { .bulkString(Array($0.utf8)) }))
        case .create:
            // Decided by the default keyspace's leader, whatever keyspace the session uses; the
            // default log's index is not a token of the session's keyspace.
            let pending = beginAsync(.write, context: context)
            cluster.defaultGroup.driver.submitWrite(arguments, token: 0, ackMode: .majority) {
                reply, _ in pending.finish(reply, 0)
            }
        case .usage(let message):
            reply(.error(message))
        }
    }

    /// A command running asynchronously: its reply's place in `slots`, and how to deliver
    /// the reply from any thread.
    struct AsyncCommand {
        let slot: Int
        let loop: any EventLoop
        let handler: NIOLoopBound<RESPConnectionHandler>

        /// Delivers the reply and the session's new token (any thread). On the connection's
        /// own loop (a clustered node's clients share the raft loop) the reply is written at
        /// once, so a batch's replies leave before the raft loop blocks in its next fsync;
        /// the connection's further requests are still run later, so the caller (the
        /// replication driver, mid-ready) is never re-entered.
        var finish: @Sendable (RESPValue, UInt64) -> Void {
            { [slot, loop, handler] reply, token in
                if loop.inEventLoop {
                    handler.value.clusterCommandDone(
                        slot, reply, token: token, resumesLater: true)
                } else {
                    loop.execute { handler.value.clusterCommandDone(slot, reply, token: token) }
                }
            }
        }
    }

    /// Counts a command of `kind` in flight and reserves the slot of its reply.
    func beginAsync(
        _ kind: ClusterCommandKind, context: ChannelHandlerContext
    ) -> AsyncCommand {
        inFlight += 1
        inFlightKind = kind
        slots.append(nil)
        return AsyncCommand(
            slot: slotBase + slots.count - 1, loop: context.eventLoop,
            handler: NIOLoopBound(self, eventLoop: context.eventLoop))
    }

    private func readGateOpened(_ slot: Int, _ arguments: [[UInt8]], _ gate: ReadGate) {
        switch gate {
        case .proceed(let applied) where CommandExecutor.isNamed(arguments[0], "KEYS"):
            // KEYS walks every key. Clients share the raft loop (see `RESPServer`), whose
            // heartbeats must not wait for that, so it runs on another thread (from a snapshot
            // of the index, which the engine takes under its lock) and the reply comes back
            // here. It changes no session state.
            guard let context else { return }
            let executor = executor
            let session = session
            let loop = context.eventLoop
            let handler = NIOLoopBound(self, eventLoop: loop)
            DispatchQueue.global(qos: .utility).async {
                var copy = session
                let outcome = executor.execute(
                    arguments, session: &copy, nowMillis: WallClock.nowMillis())
                loop.execute {
                    handler.value.clusterCommandDone(slot, outcome.reply, token: applied)
                }
            }
        case .proceed(let applied):
            let outcome = executor.execute(
                arguments, session: &session, nowMillis: WallClock.nowMillis())
            clusterCommandDone(slot, outcome.reply, token: applied)
        case .refused(let reply):
            clusterCommandDone(slot, reply, token: 0)
        }
    }

    func clusterCommandDone(
        _ slot: Int, _ reply: RESPValue, token: UInt64, resumesLater: Bool = false
    ) {
        let position = slot - slotBase
        guard let context, position >= 0, position < slots.count else { return }
        session.token = max(session.token, token)
        if position == 0 {
            // The oldest reply owed (with one request in flight, the only one): it goes
            // straight to the output, and its slot only records that it is done.
            reply.encode(into: &output, version: session.protocolVersion)
            slots[0] = Self.emptyReply
        } else {
            var bytes = context.channel.allocator.buffer(capacity: 64)
            reply.encode(into: &bytes, version: session.protocolVersion)
            slots[position] = bytes
        }
        inFlight -= 1
        releaseSlots()
        if inFlight == 0 {
            if resumesLater {
                // Nothing parked or buffered (the usual case: one request at a time): no task.
                guard
                    stalled != nil || parsedNext < parsed.count
                        || (cumulation?.readableBytes ?? 0) > 0
                else {
                    return flush(context: context)
                }
                let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
                context.eventLoop.execute {
                    guard let context = handler.value.context else { return }
                    handler.value.processRequests(context: context)
                    handler.value.flush(context: context)
                }
            } else {
                processRequests(context: context)
            }
        }
        flush(context: context)
    }

    /// Queues a finished reply behind the unfinished ones.
    func appendSlot(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        if slots.isEmpty {
            var bytes = bytes
            output.writeBuffer(&bytes)
        } else {
            slots.append(bytes)
        }
        if output.readableBytes > executor.configuration.clientOutputBytesMax {
            executor.statistics.add(\.outputLimitDisconnects)
            closing = true
            slots.removeAll()
            output.clear()
            context.close(promise: nil)
        }
    }

    /// Moves the finished prefix of `slots` to the output.
    private func releaseSlots() {
        var released = 0
        while released < slots.count, var bytes = slots[released] {
            output.writeBuffer(&bytes)
            released += 1
        }
        slotBase += released
        if released == slots.count {
            slots.removeAll(keepingCapacity: true)
        } else if released > 0 {
            slots.removeFirst(released)
        }
    }

    /// Writes what is ready at the end of the loop's turn. A clustered node writes at once: its
    /// clients share the raft loop, whose next task may be a batch's fsync (see `RESPServer`).
    func flushLater() {
        guard cluster == nil else {
            if let context { flush(context: context) }
            return
        }
        guard !flushRequested else { return }
        flushRequested = true
        flusher.flushLater(self)
    }

    /// The flusher's call at the end of the turn.
    func flushNow() {
        flushRequested = false
        guard let context else { return }
        flush(context: context)
    }

    /// Writes what is ready; closes once everything owed has been written when closing.
    func flush(context: ChannelHandlerContext) {
        guard outputRecordsWritten() else { return }
        if output.readableBytes > 0 {
            executor.statistics.bytesWritten.add(output.readableBytes)
            if closing && heldStart == held.count && slots.isEmpty {
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(output)).whenComplete { _ in
                    channel.close(promise: nil)
                }
                output = context.channel.allocator.buffer(capacity: 0)
                return
            }
            context.writeAndFlush(wrapOutboundOut(output), promise: nil)
            // When the socket took all of it, NIO has let the buffer go and clearing it reuses
            // its memory; otherwise `clear` gives this handler fresh storage.
            if output.capacity <= Self.outputKeptBytesMax {
                output.clear()
            } else {
                output = context.channel.allocator.buffer(capacity: 1_024)
            }
        } else if closing && heldStart == held.count && slots.isEmpty {
            context.close(promise: nil)
        }
    }

    /// With deferred appends, makes sure the records the output's replies depend on are in
    /// the engine's files before they are sent (the first connection to flush in a turn
    /// writes every record of the turn with one `pwrite`). When that fails, holds the output
    /// and asks the flusher to try again later; returns false then.
    private func outputRecordsWritten() -> Bool {
        guard outputAwaits > 0 else { return true }
        let engine = executor.engine
        if outputAwaits > engine.sequences.written {
            do throws(StorageError) {
                try engine.writeAppends()
            } catch {
                if !outputBlocked {
                    outputBlocked = true
                    logger.warning(
                        "holding replies: the storage engine cannot write their records",
                        metadata: ["client": "\(session.id)", "error": "\(error)"])
                }
                if !flushRequested {
                    flushRequested = true
                    flusher.retryLater(self)
                }
                return false
            }
        }
        if outputBlocked {
            outputBlocked = false
            logger.info("releasing held replies", metadata: ["client": "\(session.id)"])
        }
        outputAwaits = 0
        return true
    }

    /// Server shutdown: run nothing more, send the replies owed, then close.
    func drainAndClose() {
        guard let context else { return }
        unblockForShutdown()
        closing = true
        cumulation = nil
        parsed.removeAll()
        parsedNext = 0
        flush(context: context)
    }
}
