import CohortCore
import CohortNode
import CohortRaft
import CohortReplication
import CohortStorage
import Testing

@testable import CohortNet

/// The byte bounds of a clustered write's path relate as ``ClusterLimits`` says: whatever a
/// client may send fits every later step. Headers are measured on small encodings (every
/// format here is a fixed header plus lengths plus the bytes), then checked at full size.
struct ClusterLimitsTests {
    static func configuration(bulkBytesMax: Int, keyBytesMax: Int = 1 << 20) -> ServerConfiguration
    {
        var configuration = ServerConfiguration()
        configuration.bulkBytesMax = bulkBytesMax
        configuration.keyBytesMax = keyBytesMax
        return configuration
    }

    static let configurations = [
        ServerConfiguration(), configuration(bulkBytesMax: 1 << 20),
        configuration(bulkBytesMax: 1 << 31, keyBytesMax: 512 << 20),
        configuration(bulkBytesMax: 1, keyBytesMax: 1),
    ]

    /// Bytes of the frame payload carrying `message` for a keyspace's group (the larger case).
    static func framePayloadBytes(_ outbound: PeerOutbound) -> Int {
        outbound.encodedByteCount - PeerFrame.headerBytes
    }

    @Test(arguments: configurations)
    func everyLimitHoldsWhatTheOneBeforeItAdmits(configuration: ServerConfiguration) {
        let limits = ClusterLimits(configuration)
        let raft = RaftConfig.cluster(for: configuration)
        let bulk = configuration.bulkBytesMax
        let key = configuration.keyBytesMax

        // A SET of the largest key and value, with options, is a command that replicates.
        let setArguments: [[UInt8]] = [
            Array("SET".utf8), [0x6B], [0x76], Array("PX".utf8), Array("1000000".utf8),
            Array("KEEPTTL".utf8), Array("GET".utf8),
        ]
        let optionBytes = ClusterLimits.commandBytes(setArguments) - 2
        #expect(key + bulk + optionBytes <= limits.commandBytesMax)

        // Its log entry fits Raft's entry limit: entry max ≥ bulk max + command overhead.
        #expect(raft.entryBytesMax == limits.entryBytesMax)
        #expect(raft.entryBytesMax >= bulk + key + ClusterLimits.commandOverheadBytes)
        let smallEntry = LogicalEntryCodec.encode(
            LogicalEntry(effects: [
                .put(key: [1], value: [2], valueType: 0, expiresAtMillis: 1_000_000)
            ]))
        let entryHeaderBytes = smallEntry.count - 2
        #expect(key + bulk + entryHeaderBytes <= raft.entryBytesMax)
        // And the log store keeps it; its snapshots hold what Raft assembles.
        let store = RaftLogStoreOptions.cluster(for: configuration)
        #expect(store.entryBytesMax >= raft.entryBytesMax)
        #expect(store.snapshotBytesMax >= raft.incomingSnapshotBytesMax)
        #expect(raft.incomingSnapshotBytesMax >= raft.entryBytesMax)
        raft.validate()
        store.validate(for: raft)

        // Peer frames: the largest AppendEntries (a full batch, or one largest entry alone).
        var transport = PeerTransportConfiguration(
            nodeID: NodeID(1), clusterName: "cohort", clusterSecret: "s", peers: [:])
        transport.apply(limits)
        transport.validate()
        let frameMax = transport.frameLimits.payloadBytesMax
        #expect(frameMax == limits.framePayloadBytesMax)
        #expect(frameMax <= Int(UInt32.max), "the frame length is a u32")
        func appendEntries(_ sizes: [Int]) -> PeerOutbound {
            let entries = sizes.enumerated().map { offset, size in
                RaftEntry(
                    index: LogIndex(UInt64(offset + 1)), term: Term(1),
                    kind: .normal([UInt8](repeating: 7, count: size)))
            }
            let request = RaftAppendEntriesRequest(
                previousLogIndex: .zero, previousLogTerm: Term(0), entries: entries,
                leaderCommit: .zero)
            return .raft(
                RaftMessage(
                    from: NodeID(1), to: NodeID(2), term: Term(1),
                    body: .appendEntriesRequest(request)),
                group: UInt64.max)
        }
        let messageHeaderBytes = Self.framePayloadBytes(appendEntries([]))
        let perEntryHeaderBytes = Self.framePayloadBytes(appendEntries([0])) - messageHeaderBytes
        #expect(
            messageHeaderBytes + perEntryHeaderBytes + raft.entryBytesMax <= frameMax,
            "peer frame max ≥ largest entry message + overhead")
        #expect(
            messageHeaderBytes + raft.entriesPerMessageMax * perEntryHeaderBytes
                + raft.appendEntriesBytesMax <= frameMax)
        // The receiving decoder admits the entry and the chunk.
        #expect(transport.messageLimits.entryBytesMax >= raft.entryBytesMax)
        #expect(transport.messageLimits.snapshotChunkBytesMax >= raft.snapshotChunkBytesMax)
        #expect(transport.messageLimits.entriesPerMessageMax >= raft.entriesPerMessageMax)
        let chunkHeaderBytes = Self.framePayloadBytes(
            .raft(
                RaftMessage(
                    from: NodeID(1), to: NodeID(2), term: Term(1),
                    body: .installSnapshotRequest(
                        RaftInstallSnapshotRequest(
                            metadata: RaftSnapshotMetadata(
                                index: LogIndex(1), term: Term(1),
                                membership: RaftMembership(voters: (1...64).map { NodeID($0) })),
                            offset: 0, chunk: [], isLastChunk: false))),
                group: UInt64.max))
        #expect(chunkHeaderBytes + raft.snapshotChunkBytesMax <= frameMax)

        // Forward messages: the largest forwarded or proxied command, and a proxied reply of
        // the largest value (forward message max ≥ the same).
        let proxied = ForwardMessage.proxied(
            id: .max, arguments: [], token: .max, ackMode: .all,
            consistency: .boundedStaleness(millis: .max)
        ).encoded()
        let forwardHeaderBytes = Self.framePayloadBytes(.forward(proxied, group: UInt64.max))
        #expect(forwardHeaderBytes + limits.commandBytesMax <= frameMax)
        var reply: [UInt8] = []
        RESPValue.bulkString([]).encode(into: &reply, version: .resp3)
        let replyHeaderBytes =
            Self.framePayloadBytes(
                .forward(
                    ForwardMessage.proxyResponse(id: .max, reply: reply, index: .max).encoded(),
                    group: UInt64.max)) + String(bulk).utf8.count
        #expect(replyHeaderBytes + bulk <= frameMax)

        // A largest frame fits a peer's queue with room beside it.
        #expect(transport.outboundQueueBytesMax >= frameMax + PeerFrame.headerBytes)
    }

    @Test func theClusterConfigKeepsTheDriversTimingsAndPipelines() {
        let raft = RaftConfig.cluster(for: ServerConfiguration())
        #expect(raft.electionTimeoutTicksMin == 10)
        #expect(raft.electionTimeoutTicksMax == 20)
        #expect(raft.heartbeatIntervalTicks == 2)
        #expect(raft.entriesPerMessageMax == 512)
        #expect(raft.bytesPerMessageMax == 4 << 20)
        #expect(raft.inflightMessagesMax == 32)
        #expect(raft.uncommittedEntriesMax == 65_536)
        #expect(raft.readRequestsPendingMax == 65_536)
        #expect(raft.snapshotChunkBytesMax == 1 << 20)
        // 512 MiB values replicate, while ordinary batches stay at 4 MiB.
        #expect(raft.entryBytesMax > 512 << 20)
        #expect(raft.appendEntriesBytesMax == raft.entryBytesMax)
    }

    @Test func tooLargeWritesGetANonRetryableErrorNamingTheLimit() throws {
        let limits = ClusterLimits(Self.configuration(bulkBytesMax: 1 << 10, keyBytesMax: 16))
        let fits: [[UInt8]] = [
            Array("SET".utf8), [UInt8](repeating: 1, count: 16), [UInt8](repeating: 2, count: 1024),
        ]
        #expect(limits.refusal(forArguments: fits) == nil)
        let tooMany =
            [Array("MSET".utf8)] + (0..<200).map { _ in [UInt8](repeating: 3, count: 500) }
        let refusal = try #require(limits.refusal(forArguments: tooMany))
        guard case .error(let text) = refusal else {
            Issue.record("\(refusal)")
            return
        }
        #expect(text.hasPrefix("ERR ") && text.contains("commandBytesMax"), "\(text)")
        guard case .error(let entryText) = limits.reply(refusing: .entryTooLarge) else {
            Issue.record("not an error")
            return
        }
        #expect(entryText.hasPrefix("ERR ") && entryText.contains("entryBytesMax"))
        // Refusals that pass stay retryable.
        guard case .error(let busy) = limits.reply(refusing: .uncommittedEntriesLimitReached)
        else {
            Issue.record("not an error")
            return
        }
        #expect(busy.hasPrefix("TRYAGAIN "))
    }
}
