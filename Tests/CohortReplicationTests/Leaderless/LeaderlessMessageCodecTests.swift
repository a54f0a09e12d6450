import CohortCore
import Testing

@testable import CohortReplication

@Suite struct LeaderlessMessageCodecTests {
    static func sampleState() -> SiblingSet {
        var state = SiblingSet.empty
        _ = state.write(
            Array("v".utf8), context: .empty, replica: NodeID(1),
            stamp: HLCTimestamp(physicalMillis: 9, logical: 2))
        _ = state.write(nil, context: .empty, replica: NodeID(2), stamp: .zero)
        return state
    }

    static let messages: [LeaderlessMessage] = {
        let state = sampleState()
        let key = Array("key".utf8)
        return [
            .replicate(request: RequestID(1), key: key, state: state),
            .replicated(request: RequestID(2)),
            .replicateHint(request: RequestID(9), key: key, state: state, home: NodeID(4)),
            .handoff(key: key, state: state),
            .handedOff(key: key, digest: 1 << 63),
            .read(request: RequestID(3), key: key),
            .readReply(request: RequestID(4), state: .empty),
            .repair(key: key, state: state),
            .forwardWrite(
                request: RequestID(5), key: key, value: nil, context: state.clock, quorum: 0),
            .forwardWrite(
                request: RequestID(6), key: key, value: [0, 255], context: .empty, quorum: 3),
            .forwardedWriteDone(
                request: RequestID(7),
                result: .written(dot: Dot(replica: NodeID(3), counter: 4), context: state.clock)),
            .forwardedWriteDone(request: RequestID(8), result: .failed("NOQUORUM 1 of 2")),
            .treeRoots(partitions: [0, 7, 63], roots: [1, 2, 3]),
            .treeDiffering(partitions: [7, 63]),
            .treeDiffering(partitions: []),
            .tombstoneQuery(entries: [KeyDigest(key: key, digest: 5, clock: state.clock)]),
            .tombstonesHeld(entries: []),
            .treeInterior(partition: 3, hashes: Array(0..<16)),
            .treeLeaves(partition: 4, interior: [1, 15], hashes: Array(0..<32)),
            .digests(
                partition: 5, leaves: [0, 255],
                entries: [KeyDigest(key: key, digest: 77, clock: state.clock)]),
            .exchange(
                partition: 6, states: [KeyState(key: key, state: state)], wanted: [key, []]),
        ]
    }()

    @Test(arguments: messages) func roundTrips(_ message: LeaderlessMessage) {
        #expect(LeaderlessMessageCodec.decode(LeaderlessMessageCodec.encode(message)) == message)
    }

    @Test(arguments: messages) func truncatedOrExtendedBytesAreRefused(_ message: LeaderlessMessage)
    {
        let bytes = LeaderlessMessageCodec.encode(message)
        for length in 0..<bytes.count {
            #expect(LeaderlessMessageCodec.decode(Array(bytes[..<length])) == nil)
        }
        #expect(LeaderlessMessageCodec.decode(bytes + [0]) == nil)
    }

    /// Leaderless frames share the forwarding channel with proxied commands.
    @Test(arguments: messages) func neverReadsAsAProxiedCommand(_ message: LeaderlessMessage) {
        #expect(!ForwardMessage.isProxy(LeaderlessMessageCodec.encode(message)))
    }

    @Test func unknownTagsAreRefused() {
        #expect(LeaderlessMessageCodec.decode([0]) == nil)
        #expect(LeaderlessMessageCodec.decode([200, 1, 2, 3]) == nil)
    }
}
