import CohortCore
import CohortRaft
import Testing

@testable import CohortNet

/// The pure pieces of the peer transport: proofs, handshake payloads, backoff and
/// the outbound queue.
@Suite struct PeerTransportPartsTests {
    @Test func proofsDependOnSecretNonceIdentitiesAndIncarnations() {
        let right = PeerAuthenticator(secret: "s3cret")
        let wrong = PeerAuthenticator(secret: "s3cres")
        let nonce = PeerNonce(high: 1, low: 2)
        func hello(
            _ authenticator: PeerAuthenticator, nonce: PeerNonce = nonce, dialer: UInt64 = 1,
            incarnation: UInt64 = 7, cluster: String = "c"
        ) -> UInt64 {
            authenticator.helloProof(
                acceptorNonce: nonce, dialer: NodeID(dialer), acceptor: NodeID(2),
                dialerIncarnation: incarnation, clusterName: cluster)
        }
        let proof = hello(right)
        #expect(proof == hello(PeerAuthenticator(secret: "s3cret")))
        let variants = [
            hello(wrong), hello(right, nonce: PeerNonce(high: 1, low: 3)),
            hello(right, dialer: 3), hello(right, incarnation: 8), hello(right, cluster: "d"),
            right.acceptProof(
                dialerNonce: nonce, dialer: NodeID(1), acceptor: NodeID(2),
                acceptorIncarnation: 7),
        ]
        for variant in variants {
            #expect(variant != proof)
        }
        let accept = right.acceptProof(
            dialerNonce: nonce, dialer: NodeID(1), acceptor: NodeID(2), acceptorIncarnation: 7)
        #expect(
            accept
                != right.acceptProof(
                    dialerNonce: nonce, dialer: NodeID(1), acceptor: NodeID(2),
                    acceptorIncarnation: 9))
    }

    @Test func handshakeMessagesRoundTripAndRejectMalformedPayloads() {
        let messages: [PeerHandshakeMessage] = [
            .challenge(
                acceptor: NodeID(2), nonce: PeerNonce(high: 3, low: 4), clusterName: "prod",
                incarnation: 0xABCD),
            .hello(
                dialer: NodeID(1), acceptor: NodeID(2), clusterName: "prod", proof: 99,
                nonce: PeerNonce(high: 5, low: 6), incarnation: 0x1234),
            .accepted(proof: 7),
            .rejected(reason: "cluster secret mismatch"),
        ]
        for message in messages {
            var payload: [UInt8] = []
            message.encode(into: &payload)
            let decoded = payload.withUnsafeBytes {
                PeerHandshakeMessage.decode(kind: message.frameKind, payload: $0)
            }
            #expect(decoded == message)
            for length in 0..<payload.count {
                let truncated = payload[..<length].withUnsafeBytes {
                    PeerHandshakeMessage.decode(kind: message.frameKind, payload: $0)
                }
                #expect(truncated == nil, "\(message) truncated to \(length)")
            }
            let padded = (payload + [0]).withUnsafeBytes {
                PeerHandshakeMessage.decode(kind: message.frameKind, payload: $0)
            }
            #expect(padded == nil)
            let wrongKind = payload.withUnsafeBytes {
                PeerHandshakeMessage.decode(kind: .raft, payload: $0)
            }
            #expect(wrongKind == nil)
        }
    }

    @Test func backoffGrowsToItsCapWithBoundedJitterAndResets() {
        var backoff = PeerReconnectBackoff(delayMillisMin: 50, delayMillisMax: 1_000, seed: 1)
        var ceilings: [Int64] = [50, 100, 200, 400, 800, 1_000, 1_000]
        ceilings += Array(repeating: 1_000, count: 40)
        for ceiling in ceilings {
            let delay = backoff.nextDelayMillis()
            #expect(delay >= ceiling - ceiling / 2 && delay <= ceiling, "ceiling \(ceiling)")
        }
        backoff.reset()
        #expect(backoff.nextDelayMillis() <= 50)
        // The same seed gives the same delays; another seed, different ones.
        var first = PeerReconnectBackoff(delayMillisMin: 50, delayMillisMax: 1_000, seed: 9)
        var second = PeerReconnectBackoff(delayMillisMin: 50, delayMillisMax: 1_000, seed: 9)
        var third = PeerReconnectBackoff(delayMillisMin: 50, delayMillisMax: 1_000, seed: 10)
        let a = (0..<10).map { _ in first.nextDelayMillis() }
        #expect(a == (0..<10).map { _ in second.nextDelayMillis() })
        #expect(a != (0..<10).map { _ in third.nextDelayMillis() })
    }

    private static func heartbeat(_ round: UInt64) -> RaftMessage {
        RaftMessage(
            from: NodeID(1), to: NodeID(2), term: Term(1), body: .heartbeatResponse(round: round))
    }

    @Test func outboundQueueDropsOldestAtEitherBound() {
        var queue = PeerOutboundQueue(messagesMax: 3, bytesMax: 100)
        var dropped = 0
        for round in 0..<5 {
            dropped += queue.append(.raft(Self.heartbeat(UInt64(round)), group: 0), size: 10)
        }
        #expect(dropped == 2)
        #expect(queue.count == 3)
        #expect(queue.bytes == 30)
        // A large message pushes out old ones by bytes.
        #expect(queue.append(.raft(Self.heartbeat(5), group: 0), size: 95) == 3)
        #expect(queue.count == 1)
        // A message larger than the whole bound is itself dropped.
        #expect(queue.append(.raft(Self.heartbeat(6), group: 0), size: 101) == 1)
        #expect(
            queue.removeBatch(messagesMax: 10, bytesMax: 10) == [.raft(Self.heartbeat(5), group: 0)]
        )
        #expect(queue.isEmpty && queue.bytes == 0)
    }

    @Test func outboundQueueBatchesRespectBoundsAndKeepOrder() {
        var queue = PeerOutboundQueue(messagesMax: 1_000, bytesMax: 1 << 20)
        for round in 0..<500 {
            _ = queue.append(.raft(Self.heartbeat(UInt64(round)), group: 0), size: 10)
        }
        var drained: [PeerOutbound] = []
        while !queue.isEmpty {
            let batch = queue.removeBatch(messagesMax: 64, bytesMax: 250)
            #expect(!batch.isEmpty && batch.count <= 25)
            drained += batch
            // Interleave appends with removals to exercise compaction.
            if drained.count < 300 {
                _ = queue.append(
                    .raft(Self.heartbeat(UInt64(500 + drained.count)), group: 0), size: 10)
            }
        }
        let rounds = drained.map { message -> UInt64 in
            guard case .raft(let raft, _) = message, case .heartbeatResponse(let round) = raft.body
            else { return .max }
            return round
        }
        #expect(rounds.prefix(500) == ArraySlice(0..<500))
        #expect(rounds.count > 500)
        #expect(queue.bytes == 0)
    }
}
