import CohortCore
import Testing

@testable import CohortReplication

/// Forwarded client commands between a follower and the leader: every message comes back
/// equal, and a malformed one is refused instead of trapping or being half-read.
@Suite struct ForwardMessageTests {
    static let setCommand: [[UInt8]] = [
        Array("SET".utf8), Array("key".utf8), [0, 0xFF, 13, 10],
    ]

    @Test(arguments: AckMode.allCases)
    func requestRoundTripsForEveryAckMode(ackMode: AckMode) throws {
        let message = ForwardMessage.request(
            id: 0x0102_0304_0506_0708, arguments: Self.setCommand, token: .max, ackMode: ackMode,
            term: .max)
        let encoded = message.encoded()
        #expect(try #require(ForwardMessage.decode(encoded)) == message)
    }

    @Test(arguments: [
        ReadConsistency.linearizable, .session, .any, .boundedStaleness(millis: 250),
    ])
    func proxiedRequestsAndAnswersRoundTrip(consistency: ReadConsistency) throws {
        let request = ForwardMessage.proxied(
            id: 42, arguments: Self.setCommand, token: 7, ackMode: .leader,
            consistency: consistency)
        let encoded = request.encoded()
        #expect(try #require(ForwardMessage.decode(encoded)) == request)
        #expect(ForwardMessage.isProxy(encoded))
        let answer = ForwardMessage.proxyResponse(id: 42, reply: Array("+OK\r\n".utf8), index: 9)
        #expect(try #require(ForwardMessage.decode(answer.encoded())) == answer)
        #expect(ForwardMessage.isProxy(answer.encoded()))
        // Follower-to-leader forwards are not proxy traffic.
        #expect(
            !ForwardMessage.isProxy(
                ForwardMessage.request(id: 1, arguments: [], token: 0, ackMode: .all, term: 3)
                    .encoded()))
        #expect(
            !ForwardMessage.isProxy(
                ForwardMessage.response(id: 1, reply: [], index: 0).encoded()))
        for length in 0..<encoded.count {
            #expect(ForwardMessage.decode(Array(encoded.prefix(length))) == nil)
        }
        var badConsistency = encoded
        badConsistency[18] = 9
        #expect(ForwardMessage.decode(badConsistency) == nil)
    }

    @Test func ackModesEncodeAsDistinctBytes() {
        // The ack byte follows kind (1), id (8) and token (8).
        // Pinned per named case: reordering the enum must not change the wire.
        let modes: [AckMode] = [.all, .majority, .leader]
        let bytes = modes.map {
            ForwardMessage.request(id: 1, arguments: [], token: 2, ackMode: $0, term: 3).encoded()[
                17]
        }
        #expect(bytes == [0, 1, 2])
    }

    @Test func requestWithManyAndEmptyArguments() throws {
        var random = SplitMix64(seed: 0x5EED_0004)
        let arguments = (0..<1_000).map { index in
            // Every fifth argument empty; the rest of random length and content.
            index % 5 == 0
                ? []
                : (0..<Int(random.below(40))).map { _ in
                    UInt8(truncatingIfNeeded: random.next())
                }
        }
        for message in [
            ForwardMessage.request(id: 7, arguments: arguments, token: 0, ackMode: .all, term: 3),
            ForwardMessage.request(id: 0, arguments: [], token: 9, ackMode: .leader, term: 3),
            ForwardMessage.request(id: 1, arguments: [[]], token: 9, ackMode: .majority, term: 3),
        ] {
            #expect(try #require(ForwardMessage.decode(message.encoded())) == message)
        }
    }

    @Test(arguments: [
        ForwardMessage.response(id: 42, reply: Array("+OK\r\n".utf8), index: 17),
        ForwardMessage.response(id: 0, reply: [], index: 0),
        ForwardMessage.response(id: .max, reply: Array(0...255), index: .max),
    ])
    func responseRoundTrips(message: ForwardMessage) throws {
        #expect(try #require(ForwardMessage.decode(message.encoded())) == message)
    }

    @Test func responseLayout() {
        let encoded = ForwardMessage.response(id: 0x0201, reply: [0xAA], index: 0x0403).encoded()
        #expect(
            encoded == [
                2, 0x01, 0x02, 0, 0, 0, 0, 0, 0, 0x03, 0x04, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0xAA,
            ])
    }

    static let samples: [ForwardMessage] = [
        .request(id: 3, arguments: setCommand, token: 11, ackMode: .majority, term: 5),
        .request(id: 4, arguments: [], token: 0, ackMode: .all, term: 5),
        .response(id: 5, reply: Array("$3\r\nabc\r\n".utf8), index: 99),
        .response(id: 6, reply: [], index: 0),
    ]

    @Test(arguments: samples)
    func everyTruncationIsRejected(message: ForwardMessage) {
        let encoded = message.encoded()
        for length in 0..<encoded.count {
            #expect(
                ForwardMessage.decode(Array(encoded.prefix(length))) == nil,
                "prefix of \(length) of \(encoded.count) bytes")
        }
    }

    @Test(arguments: samples)
    func trailingBytesAreRejected(message: ForwardMessage) {
        let encoded = message.encoded()
        #expect(ForwardMessage.decode(encoded + [0]) == nil)
        #expect(ForwardMessage.decode(encoded + [0, 0, 0, 0]) == nil)
    }

    @Test func unknownKindIsRejected() {
        for message in Self.samples {
            var encoded = message.encoded()
            for kind: UInt8 in [0, 3, 0xFF] {
                encoded[0] = kind
                #expect(ForwardMessage.decode(encoded) == nil, "kind \(kind)")
            }
        }
    }

    @Test func badAckModeByteIsRejected() {
        var encoded = Self.samples[0].encoded()
        for mode in UInt8(AckMode.allCases.count)...0xFF {
            encoded[17] = mode
            #expect(ForwardMessage.decode(encoded) == nil, "ack byte \(mode)")
        }
    }

    @Test func argumentCountsBeyondTheBytesOrTheLimitAreRejected() throws {
        // Header of a request: kind, id, token, ack mode, leader term; then the count.
        let header: [UInt8] =
            [1] + [UInt8](repeating: 0, count: 16) + [0]
            + [UInt8](
                repeating: 0, count: 8)
        func count(_ value: UInt32) -> [UInt8] {
            (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
        }
        #expect(ForwardMessage.decode(header + count(.max)) == nil)
        #expect(ForwardMessage.decode(header + count(.max) + [0, 0, 0, 0]) == nil)
        // One more argument than the bytes hold.
        #expect(ForwardMessage.decode(header + count(2) + [0, 0, 0, 0]) == nil)
        // An argument length past the end.
        #expect(ForwardMessage.decode(header + count(1) + [5, 0, 0, 0, 1, 2]) == nil)

        // Exactly `argumentsMax` empty arguments decode; one more is refused even though the
        // bytes are there.
        let limit = ForwardMessage.argumentsMax
        let atLimit = header + count(UInt32(limit)) + [UInt8](repeating: 0, count: 4 * limit)
        guard case .request(_, let arguments, _, _, _)? = ForwardMessage.decode(atLimit) else {
            Issue.record("a request with argumentsMax arguments did not decode")
            return
        }
        #expect(arguments.count == limit)
        let overLimit =
            header + count(UInt32(limit + 1)) + [UInt8](repeating: 0, count: 4 * (limit + 1))
        #expect(ForwardMessage.decode(overLimit) == nil)
    }

    @Test func responseReplyLengthPastTheEndIsRejected() {
        var encoded = ForwardMessage.response(id: 1, reply: [1, 2, 3], index: 2).encoded()
        // The reply length is at offset 17.
        encoded[17] = 4
        #expect(ForwardMessage.decode(encoded) == nil)
        encoded[17] = 2
        #expect(ForwardMessage.decode(encoded) == nil, "shorter length leaves trailing bytes")
    }

    /// Random inputs never trap; anything accepted is canonical.
    @Test func randomBytesNeverTrap() {
        var random = SplitMix64(seed: 0x5EED_0005)
        var accepted = 0
        for _ in 0..<20_000 {
            var input = (0..<Int(random.below(48))).map { _ in
                UInt8(truncatingIfNeeded: random.next())
            }
            if input.count >= 22 && random.below(2) == 0 {
                // A plausible header, so that the bodies are parsed too.
                input[0] = UInt8(1 + random.below(2))
                input[17] = UInt8(random.below(3))
                input[18...21] = [UInt8(random.below(3)), 0, 0, 0]
            }
            if let message = ForwardMessage.decode(input) {
                accepted += 1
                #expect(message.encoded() == input)
            }
        }
        #expect(accepted > 0)
    }

    /// A reply crosses between nodes without losing what RESP3 alone loses: a null array (an
    /// aborted EXEC, an LPOP with a count of a missing key) stays apart from a null bulk
    /// string, at any depth, so the relaying node writes `*-1` to a RESP2 client.
    @Test func repliesKeepNullArraysApartFromNullsAcrossNodes() {
        let reply = RESPValue.array([
            .nullArray, .null, .map([(.bulkString([1]), .nullArray)]), .set([.nullArray]),
            .double(1.5), .array([.integer(3), .nullArray]),
        ])
        var bytes: [UInt8] = []
        reply.encodeForPeers(into: &bytes)
        #expect(LeaderGroup.decodeReply(bytes) == reply)
        #expect(LeaderGroup.decodeReply(RESPValue.nullArray.encoded(version: .resp3)) == .null)
        var aborted: [UInt8] = []
        RESPValue.nullArray.encodeForPeers(into: &aborted)
        #expect(LeaderGroup.decodeReply(aborted) == .nullArray)
    }
}
