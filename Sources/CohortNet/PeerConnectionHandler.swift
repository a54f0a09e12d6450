import CohortCore
import CohortRaft
import Logging
import NIOCore

/// One peer connection, either end: runs the handshake, then decodes frames into Raft messages
/// for the transport's handler, answers pings, and (as dialer) pings and reports writability to
/// its ``PeerLink``. Any malformed frame, failed handshake, handshake timeout or silence longer
/// than the idle timeout closes the connection; the dialer's link then redials with backoff.
final class PeerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Which end of the connection this is.
    enum Role {
        /// This node dialled `link`'s peer.
        case dialer(PeerLink)
        /// The peer dialled this node's peer port.
        case acceptor
    }

    private enum State {
        /// Dialer: waiting for the acceptor's challenge.
        case awaitingChallenge
        /// Acceptor: challenge sent with `nonce`, waiting for hello.
        case awaitingHello(nonce: PeerNonce)
        /// Dialer: hello sent with `nonce` to an acceptor that announced `incarnation`, waiting
        /// for the verdict.
        case awaitingVerdict(nonce: PeerNonce, incarnation: UInt64)
        /// Authenticated with `peer`: Raft messages flow.
        case established(peer: NodeID)
        /// Closing; nothing more is read.
        case closed
    }

    private let role: Role
    private let context: PeerTransportContext
    private let decoder: PeerFrameDecoder
    private var state: State
    private var cumulation: ByteBuffer?
    private var receivedSinceCheck = false
    /// Consecutive keep-alive intervals in which nothing was received.
    private var silentIntervals: Int64 = 0
    private var handshakeTimeout: Scheduled<Void>?
    private var keepAlive: RepeatedTask?
    private var scratch: [UInt8] = []

    init(role: Role, context: PeerTransportContext) {
        self.role = role
        self.context = context
        self.decoder = PeerFrameDecoder(limits: context.configuration.frameLimits)
        switch role {
        case .dialer: state = .awaitingChallenge
        case .acceptor: state = .awaitingHello(nonce: .random())
        }
    }

    private var peerDescription: String {
        switch (role, state) {
        case (_, .established(let peer)): "\(peer)"
        case (.dialer(let link), _): "\(link.peerID)"
        case (.acceptor, _): "unauthenticated"
        }
    }

    func channelActive(context channelContext: ChannelHandlerContext) {
        let configuration = context.configuration
        if case .acceptor = role {
            context.registerInbound(channelContext.channel)
            if case .awaitingHello(let nonce) = state {
                send(
                    .challenge(
                        acceptor: context.localID, nonce: nonce,
                        clusterName: configuration.clusterName,
                        incarnation: context.localIncarnation),
                    context: channelContext)
            }
        }
        let loopBound = NIOLoopBound(self, eventLoop: channelContext.eventLoop)
        let contextBound = NIOLoopBound(channelContext, eventLoop: channelContext.eventLoop)
        handshakeTimeout = channelContext.eventLoop.scheduleTask(
            in: .milliseconds(configuration.handshakeTimeoutMillis)
        ) {
            loopBound.value.fail("handshake timed out", context: contextBound.value)
        }
        // Liveness: every interval, the dialer pings; either end closes a connection that has
        // received nothing for the idle timeout (a dead peer, or a half-open TCP connection).
        let interval = configuration.pingIntervalMillis
        let checksPerIdle = max(1, configuration.idleTimeoutMillis / interval)
        keepAlive = channelContext.eventLoop.scheduleRepeatedTask(
            initialDelay: .milliseconds(interval), delay: .milliseconds(interval)
        ) { _ in
            let handler = loopBound.value
            let channelContext = contextBound.value
            handler.silentIntervals =
                handler.receivedSinceCheck ? 0 : handler.silentIntervals + 1
            handler.receivedSinceCheck = false
            if handler.silentIntervals >= checksPerIdle {
                handler.fail("idle timeout", context: channelContext)
                return
            }
            if case .dialer = handler.role, case .established = handler.state {
                handler.sendFrame(kind: .ping, payload: [], context: channelContext)
            }
        }
        channelContext.fireChannelActive()
    }

    func channelInactive(context channelContext: ChannelHandlerContext) {
        state = .closed
        handshakeTimeout?.cancel()
        keepAlive?.cancel()
        switch role {
        case .dialer(let link): link.connectionClosed(channelContext.channel)
        case .acceptor: context.unregisterInbound(channelContext.channel)
        }
        channelContext.fireChannelInactive()
    }

    func channelWritabilityChanged(context channelContext: ChannelHandlerContext) {
        if case .dialer(let link) = role {
            link.writabilityChanged(channelContext.channel)
        }
        channelContext.fireChannelWritabilityChanged()
    }

    func errorCaught(context channelContext: ChannelHandlerContext, error: any Error) {
        context.logger.debug(
            "peer connection error", metadata: ["peer": "\(peerDescription)", "error": "\(error)"])
        state = .closed
        channelContext.close(promise: nil)
    }

    func channelRead(context channelContext: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if case .closed = state { return }
        receivedSinceCheck = true
        if cumulation == nil {
            cumulation = buffer
        } else {
            cumulation!.writeBuffer(&buffer)
        }
        processFrames(context: channelContext)
    }

    func channelReadComplete(context channelContext: ChannelHandlerContext) {
        channelContext.flush()
        channelContext.fireChannelReadComplete()
    }

    private func processFrames(context channelContext: ChannelHandlerContext) {
        while var buffer = cumulation, buffer.readableBytes > 0 {
            let outcome = buffer.withUnsafeReadableBytes { bytes -> PeerFrameDecoder.Outcome in
                let outcome = decoder.decode(bytes)
                if case .frame(let kind, let payload, _) = outcome {
                    handleFrame(
                        kind: kind, payload: UnsafeRawBufferPointer(rebasing: bytes[payload]),
                        context: channelContext)
                }
                return outcome
            }
            switch outcome {
            case .needMoreData:
                break
            case .error(let failure):
                fail("\(failure)", context: channelContext)
                return
            case .frame(_, _, let consumed):
                if case .closed = state {
                    cumulation = nil
                    return
                }
                buffer.moveReaderIndex(forwardBy: consumed)
                cumulation = buffer.readableBytes == 0 ? nil : buffer
                continue
            }
            break
        }
        if var buffer = cumulation, buffer.readerIndex > 64 * 1_024 {
            buffer.discardReadBytes()
            cumulation = buffer
        }
    }

    private func handleFrame(
        kind: PeerFrameKind, payload: UnsafeRawBufferPointer,
        context channelContext: ChannelHandlerContext
    ) {
        switch (kind, state) {
        case (.raft, .established(let peer)):
            deliver(payload, group: 0, from: peer, context: channelContext)
        case (.forward, .established(let peer)):
            context.count(\.messagesReceived)
            context.onForward(peer, 0, Array(payload))
        case (.groupRaft, .established(let peer)):
            guard let (group, rest) = PeerOutbound.splitGroup(payload) else {
                fail("a group frame without its group id", context: channelContext)
                return
            }
            deliver(rest, group: group, from: peer, context: channelContext)
        case (.groupForward, .established(let peer)):
            guard let (group, rest) = PeerOutbound.splitGroup(payload) else {
                fail("a group frame without its group id", context: channelContext)
                return
            }
            context.count(\.messagesReceived)
            context.onForward(peer, group, Array(rest))
        case (.ping, .established):
            sendFrame(kind: .pong, payload: Array(payload), context: channelContext)
        case (.pong, .established):
            break
        case (.challenge, .awaitingChallenge), (.hello, .awaitingHello),
            (.helloAccepted, .awaitingVerdict), (.helloRejected, .awaitingVerdict):
            guard let message = PeerHandshakeMessage.decode(kind: kind, payload: payload) else {
                fail("malformed \(kind) frame", context: channelContext)
                return
            }
            handshake(message, context: channelContext)
        default:
            fail("unexpected \(kind) frame", context: channelContext)
        }
    }

    private func deliver(
        _ payload: UnsafeRawBufferPointer, group: UInt64, from peer: NodeID,
        context channelContext: ChannelHandlerContext
    ) {
        let message: RaftMessage
        do {
            message = try RaftMessageCodec.decode(
                payload, limits: context.configuration.messageLimits)
        } catch {
            fail("\(error)", context: channelContext)
            return
        }
        // A message that claims another sender, or is meant for another node, means a
        // misrouted or misconfigured peer; Raft must not see it.
        guard message.from == peer, message.to == context.localID else {
            context.count(\.messagesDroppedMisaddressed)
            context.logger.warning(
                "dropping misaddressed Raft message",
                metadata: ["peer": "\(peer)", "message": "\(message)"])
            return
        }
        context.count(\.messagesReceived)
        context.onMessage(group, message)
    }

    private func handshake(
        _ message: PeerHandshakeMessage, context channelContext: ChannelHandlerContext
    ) {
        let configuration = context.configuration
        let authenticator = context.authenticator
        let localID = context.localID
        switch (message, state, role) {
        case (
            .challenge(let acceptor, let acceptorNonce, let clusterName, let acceptorIncarnation),
            _, .dialer(let link)
        ):
            guard clusterName == configuration.clusterName else {
                reject("cluster name \(clusterName) is not ours", context: channelContext)
                return
            }
            guard acceptor == link.peerID else {
                reject(
                    "\(link.address) is \(acceptor), not \(link.peerID)", context: channelContext)
                return
            }
            let nonce = PeerNonce.random()
            let proof = authenticator.helloProof(
                acceptorNonce: acceptorNonce, dialer: localID, acceptor: acceptor,
                dialerIncarnation: context.localIncarnation, clusterName: clusterName)
            state = .awaitingVerdict(nonce: nonce, incarnation: acceptorIncarnation)
            send(
                .hello(
                    dialer: localID, acceptor: acceptor, clusterName: clusterName, proof: proof,
                    nonce: nonce, incarnation: context.localIncarnation),
                context: channelContext)
        case (
            .hello(
                let dialer, let acceptor, let clusterName, let proof, let dialerNonce,
                let dialerIncarnation),
            .awaitingHello(let nonce), .acceptor
        ):
            let expected = authenticator.helloProof(
                acceptorNonce: nonce, dialer: dialer, acceptor: acceptor,
                dialerIncarnation: dialerIncarnation, clusterName: clusterName)
            let reason: String?
            if clusterName != configuration.clusterName {
                reason = "cluster name mismatch"
            } else if acceptor != localID {
                reason = "this node is \(localID), not \(acceptor)"
            } else if dialer == .none || dialer == localID {
                reason = "invalid node id \(dialer)"
            } else if proof != expected {
                reason = "cluster secret mismatch"
            } else {
                // Only an authenticated peer's incarnation is remembered.
                reason = context.admit(dialer, presenting: dialerIncarnation)
            }
            if let reason {
                context.count(\.handshakesRejected)
                context.logger.warning(
                    "rejecting peer", metadata: ["peer": "\(dialer)", "reason": "\(reason)"])
                state = .closed
                var payload: [UInt8] = []
                PeerHandshakeMessage.rejected(reason: reason).encode(into: &payload)
                var bytes: [UInt8] = []
                PeerFrame.encode(kind: .helloRejected, payload: payload, into: &bytes)
                let channel = channelContext.channel
                channelContext.writeAndFlush(
                    wrapOutboundOut(channel.allocator.buffer(bytes: bytes))
                ).whenComplete { _ in channel.close(promise: nil) }
                return
            }
            send(
                .accepted(
                    proof: authenticator.acceptProof(
                        dialerNonce: dialerNonce, dialer: dialer, acceptor: localID,
                        acceptorIncarnation: context.localIncarnation)),
                context: channelContext)
            established(with: dialer, context: channelContext)
            context.count(\.connectionsAccepted)
        case (
            .accepted(let proof), .awaitingVerdict(let nonce, let acceptorIncarnation),
            .dialer(let link)
        ):
            let expected = authenticator.acceptProof(
                dialerNonce: nonce, dialer: localID, acceptor: link.peerID,
                acceptorIncarnation: acceptorIncarnation)
            guard proof == expected else {
                reject("\(link.peerID) does not know the cluster secret", context: channelContext)
                return
            }
            if let reason = context.admit(link.peerID, presenting: acceptorIncarnation) {
                reject(reason, context: channelContext)
                return
            }
            established(with: link.peerID, context: channelContext)
            link.connectionAuthenticated(channelContext.channel)
        case (.rejected(let reason), .awaitingVerdict, .dialer(let link)):
            context.count(\.handshakesRejected)
            context.logger.warning(
                "peer rejected this node",
                metadata: ["peer": "\(link.peerID)", "reason": "\(reason)"])
            state = .closed
            channelContext.close(promise: nil)
        default:
            fail("unexpected handshake message", context: channelContext)
        }
    }

    private func established(with peer: NodeID, context channelContext: ChannelHandlerContext) {
        state = .established(peer: peer)
        handshakeTimeout?.cancel()
        handshakeTimeout = nil
    }

    /// The dialer refuses the acceptor (wrong cluster, node or secret): log and close.
    private func reject(_ reason: String, context channelContext: ChannelHandlerContext) {
        context.count(\.handshakesRejected)
        context.logger.warning(
            "refusing peer", metadata: ["peer": "\(peerDescription)", "reason": "\(reason)"])
        state = .closed
        channelContext.close(promise: nil)
    }

    /// A protocol error, timeout or idle connection: count, log and close.
    private func fail(_ reason: String, context channelContext: ChannelHandlerContext) {
        if case .closed = state { return }
        context.count(\.protocolErrors)
        context.logger.info(
            "closing peer connection",
            metadata: ["peer": "\(peerDescription)", "reason": "\(reason)"])
        state = .closed
        cumulation = nil
        channelContext.close(promise: nil)
    }

    private func send(
        _ message: PeerHandshakeMessage, context channelContext: ChannelHandlerContext
    ) {
        var payload: [UInt8] = []
        message.encode(into: &payload)
        sendFrame(kind: message.frameKind, payload: payload, context: channelContext)
    }

    private func sendFrame(
        kind: PeerFrameKind, payload: [UInt8], context channelContext: ChannelHandlerContext
    ) {
        scratch.removeAll(keepingCapacity: true)
        PeerFrame.encode(kind: kind, payload: payload, into: &scratch)
        channelContext.writeAndFlush(
            wrapOutboundOut(channelContext.channel.allocator.buffer(bytes: scratch)), promise: nil)
    }
}
