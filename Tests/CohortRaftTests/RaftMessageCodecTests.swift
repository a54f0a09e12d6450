import CohortCore
import Testing

@testable import CohortRaft

/// Generates arbitrary Raft messages from a seed, covering every body and entry kind.
private struct RaftMessageGenerator {
    var random: SplitMix64

    static let bodyKindCount = 13

    mutating func word() -> UInt64 {
        // Mix small values (the common case) with full-width ones (the edge cases).
        random.below(4) == 0 ? random.next() : random.below(1_000)
    }

    mutating func bytes(maxCount: Int) -> [UInt8] {
        let count = random.value(in: 0...maxCount)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    mutating func flag() -> Bool { random.below(2) == 1 }

    mutating func membership() -> RaftMembership {
        var nodes = Set<UInt64>()
        let total = random.value(in: 0...9)
        while nodes.count < total {
            nodes.insert(random.below(50) + 1)
        }
        var voters: [NodeID] = []
        var witnesses: [NodeID] = []
        var learners: [NodeID] = []
        for node in nodes.sorted() {
            switch random.below(3) {
            case 0: voters.append(NodeID(node))
            case 1: witnesses.append(NodeID(node))
            default: learners.append(NodeID(node))
            }
        }
        let awaiting = learners.filter { _ in flag() }
        return RaftMembership(
            voters: voters, witnesses: witnesses, learners: learners,
            learnersAwaitingPromotion: awaiting)
    }

    mutating func entry() -> RaftEntry {
        let kind: RaftEntryKind
        switch random.below(4) {
        case 0: kind = .normal(bytes(maxCount: 40))
        case 1: kind = .noop
        case 2: kind = .membership(membership())
        default: kind = .normalDataOmitted
        }
        return RaftEntry(index: LogIndex(word()), term: Term(word()), kind: kind)
    }

    /// A message whose body is of kind `kind` (0..<bodyKindCount).
    mutating func message(kind: Int) -> RaftMessage {
        let body: RaftMessageBody
        switch kind {
        case 0:
            body = .voteRequest(
                RaftVoteRequest(
                    isPreVote: flag(), lastLogIndex: LogIndex(word()), lastLogTerm: Term(word()),
                    isLeadershipTransfer: flag()))
        case 1: body = .voteResponse(isPreVote: flag(), granted: flag())
        case 2:
            let count = random.value(in: 0...6)
            body = .appendEntriesRequest(
                RaftAppendEntriesRequest(
                    previousLogIndex: LogIndex(word()), previousLogTerm: Term(word()),
                    entries: (0..<count).map { _ in entry() }, leaderCommit: LogIndex(word())))
        case 3: body = .appendEntriesResponse(.accepted(matchIndex: LogIndex(word())))
        case 4:
            body = .appendEntriesResponse(
                .rejected(
                    previousLogIndex: LogIndex(word()), hintIndex: LogIndex(word()),
                    hintTerm: Term(word())))
        case 5: body = .heartbeatRequest(leaderCommit: LogIndex(word()), round: word())
        case 6: body = .heartbeatResponse(round: word())
        case 7:
            body = .installSnapshotRequest(
                RaftInstallSnapshotRequest(
                    metadata: RaftSnapshotMetadata(
                        index: LogIndex(word()), term: Term(word()), membership: membership()),
                    offset: word(), chunk: bytes(maxCount: 100), isLastChunk: flag()))
        case 8:
            body = .installSnapshotResponse(
                .progress(snapshotIndex: LogIndex(word()), nextOffset: word()))
        case 9: body = .installSnapshotResponse(.complete(snapshotIndex: LogIndex(word())))
        case 10: body = .readIndexRequest(requestID: word())
        case 11: body = .readIndexResponse(requestID: word(), index: LogIndex(word()))
        default: body = .timeoutNow
        }
        return RaftMessage(from: NodeID(word()), to: NodeID(word()), term: Term(word()), body: body)
    }

    mutating func message() -> RaftMessage {
        message(kind: Int(random.below(UInt64(Self.bodyKindCount))))
    }
}

@Suite struct RaftMessageCodecTests {
    /// Encodes a membership list by hand, bypassing `RaftMembership.init`'s checks, so the
    /// decoder can be shown invalid memberships.
    private static func snapshotRequestBytes(
        voters: [UInt64], witnesses: [UInt64], learners: [UInt64], awaiting: [UInt64]
    ) -> [UInt8] {
        var bytes: [UInt8] = [RaftMessageCodec.formatVersion]
        for word: UInt64 in [1, 2, 3] {
            RaftMessageCodec.append(word, to: &bytes)
        }
        bytes.append(7)  // installSnapshotRequest
        RaftMessageCodec.append(UInt64(10), to: &bytes)
        RaftMessageCodec.append(UInt64(2), to: &bytes)
        for list in [voters, witnesses, learners, awaiting] {
            RaftMessageCodec.append(UInt32(list.count), to: &bytes)
            for node in list {
                RaftMessageCodec.append(node, to: &bytes)
            }
        }
        RaftMessageCodec.append(UInt64(0), to: &bytes)
        bytes.append(1)
        RaftMessageCodec.append(UInt32(0), to: &bytes)
        return bytes
    }

    @Test func randomMessagesOfEveryKindRoundTrip() throws {
        var generator = RaftMessageGenerator(random: SplitMix64(seed: 0xC0_4E57))
        var buffer: [UInt8] = []
        for round in 0..<200 {
            for kind in 0..<RaftMessageGenerator.bodyKindCount {
                let message = generator.message(kind: kind)
                buffer.removeAll(keepingCapacity: true)
                RaftMessageCodec.encode(message, into: &buffer)
                #expect(
                    buffer.count == RaftMessageCodec.encodedByteCount(message),
                    "size of \(message)")
                let decoded = try RaftMessageCodec.decode(buffer)
                #expect(decoded == message, "round \(round) kind \(kind)")
            }
        }
    }

    @Test func encodingAppendsAfterExistingBytes() throws {
        var generator = RaftMessageGenerator(random: SplitMix64(seed: 7))
        let first = generator.message(kind: 2)
        let second = generator.message(kind: 7)
        var buffer: [UInt8] = []
        RaftMessageCodec.encode(first, into: &buffer)
        let split = buffer.count
        RaftMessageCodec.encode(second, into: &buffer)
        #expect(try RaftMessageCodec.decode(buffer[..<split]) == first)
        #expect(try RaftMessageCodec.decode(buffer[split...]) == second)
    }

    @Test func formatIsPinned() {
        // A change to this layout is a wire-format change and needs a new format version.
        let message = RaftMessage(
            from: NodeID(1), to: NodeID(2), term: Term(3), body: .heartbeatResponse(round: 0x0405))
        let expected: [UInt8] =
            [1] + [1, 0, 0, 0, 0, 0, 0, 0] + [2, 0, 0, 0, 0, 0, 0, 0] + [3, 0, 0, 0, 0, 0, 0, 0]
            + [6] + [5, 4, 0, 0, 0, 0, 0, 0]
        #expect(RaftMessageCodec.encode(message) == expected)
    }

    @Test func everyTruncationIsAnError() {
        var generator = RaftMessageGenerator(random: SplitMix64(seed: 99))
        var checked = 0
        for round in 0..<10 {
            for kind in 0..<RaftMessageGenerator.bodyKindCount {
                let bytes = RaftMessageCodec.encode(generator.message(kind: kind))
                for length in 0..<bytes.count {
                    #expect(
                        throws: RaftMessageDecodeError.self, "round \(round) kind \(kind) \(length)"
                    ) {
                        try RaftMessageCodec.decode(bytes[..<length])
                    }
                    checked += 1
                }
            }
        }
        #expect(checked > 1_000)
    }

    @Test func randomBytesNeverTrap() {
        var random = SplitMix64(seed: 0xBAD_B17E5)
        var decodedCount = 0
        for _ in 0..<20_000 {
            let count = random.value(in: 0...80)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            // Most inputs start like a real message so decoding gets past the first checks.
            if !bytes.isEmpty && random.below(4) != 0 { bytes[0] = RaftMessageCodec.formatVersion }
            if bytes.count > 25 && random.below(2) == 0 { bytes[25] = UInt8(random.below(12)) }
            if let message = try? RaftMessageCodec.decode(bytes) {
                // Whatever decodes must encode back to the same bytes: the format has one
                // encoding per message.
                #expect(RaftMessageCodec.encode(message) == bytes)
                decodedCount += 1
            }
        }
        #expect(decodedCount > 0)
    }

    @Test func mutatedEncodingsNeverTrap() {
        var generator = RaftMessageGenerator(random: SplitMix64(seed: 5))
        var random = SplitMix64(seed: 6)
        for _ in 0..<3_000 {
            var bytes = RaftMessageCodec.encode(generator.message())
            for _ in 0..<random.value(in: 1...3) {
                let position = Int(random.below(UInt64(bytes.count)))
                bytes[position] = UInt8(truncatingIfNeeded: random.next())
            }
            // Either outcome is fine; the property is that neither traps.
            _ = try? RaftMessageCodec.decode(bytes)
        }
    }

    @Test func invalidMembershipsAreDecodeErrors() {
        let valid = Self.snapshotRequestBytes(
            voters: [1, 2], witnesses: [3], learners: [4, 5], awaiting: [5])
        #expect(throws: Never.self) { try RaftMessageCodec.decode(valid) }
        let invalid: [[UInt8]] = [
            Self.snapshotRequestBytes(voters: [1, 2], witnesses: [2], learners: [], awaiting: []),
            Self.snapshotRequestBytes(voters: [1, 1], witnesses: [], learners: [], awaiting: []),
            Self.snapshotRequestBytes(voters: [1], witnesses: [], learners: [1], awaiting: [1]),
            Self.snapshotRequestBytes(voters: [1], witnesses: [], learners: [4], awaiting: [5]),
            Self.snapshotRequestBytes(voters: [0, 1], witnesses: [], learners: [], awaiting: []),
            Self.snapshotRequestBytes(voters: [1], witnesses: [], learners: [], awaiting: [0]),
            Self.snapshotRequestBytes(voters: [2, 1], witnesses: [], learners: [], awaiting: []),
        ]
        for bytes in invalid {
            #expect(throws: RaftMessageDecodeError.invalidMembership) {
                try RaftMessageCodec.decode(bytes)
            }
        }
    }

    @Test func countsAreCheckedAgainstLimitsAndRemainingBytes() {
        let limits = RaftMessageDecodeLimits(
            entriesPerMessageMax: 4, entryBytesMax: 16, snapshotChunkBytesMax: 16,
            membersPerRoleMax: 3)
        func message(_ body: RaftMessageBody) -> [UInt8] {
            RaftMessageCodec.encode(
                RaftMessage(from: NodeID(1), to: NodeID(2), term: Term(1), body: body))
        }
        let fiveEntries = message(
            .appendEntriesRequest(
                RaftAppendEntriesRequest(
                    previousLogIndex: .zero, previousLogTerm: .zero,
                    entries: (1...5).map {
                        RaftEntry(index: LogIndex($0), term: Term(1), kind: .noop)
                    },
                    leaderCommit: .zero)))
        #expect(throws: RaftMessageDecodeError.limitExceeded) {
            try RaftMessageCodec.decode(fiveEntries, limits: limits)
        }
        #expect(throws: Never.self) { try RaftMessageCodec.decode(fiveEntries) }
        let bigEntry = message(
            .appendEntriesRequest(
                RaftAppendEntriesRequest(
                    previousLogIndex: .zero, previousLogTerm: .zero,
                    entries: [
                        RaftEntry(
                            index: LogIndex(1), term: Term(1),
                            kind: .normal(Array(repeating: 9, count: 17)))
                    ],
                    leaderCommit: .zero)))
        #expect(throws: RaftMessageDecodeError.limitExceeded) {
            try RaftMessageCodec.decode(bigEntry, limits: limits)
        }
        let bigChunk = message(
            .installSnapshotRequest(
                RaftInstallSnapshotRequest(
                    metadata: RaftSnapshotMetadata(
                        index: LogIndex(1), term: Term(1),
                        membership: RaftMembership(voters: [NodeID(1)])),
                    offset: 0, chunk: Array(repeating: 1, count: 17), isLastChunk: true)))
        #expect(throws: RaftMessageDecodeError.limitExceeded) {
            try RaftMessageCodec.decode(bigChunk, limits: limits)
        }
        let manyVoters = message(
            .installSnapshotRequest(
                RaftInstallSnapshotRequest(
                    metadata: RaftSnapshotMetadata(
                        index: LogIndex(1), term: Term(1),
                        membership: RaftMembership(voters: (1...4).map { NodeID($0) })),
                    offset: 0, chunk: [], isLastChunk: true)))
        #expect(throws: RaftMessageDecodeError.limitExceeded) {
            try RaftMessageCodec.decode(manyVoters, limits: limits)
        }
        // A count that the default limits admit but the remaining bytes cannot hold fails
        // before anything is reserved for it.
        var lying = message(
            .appendEntriesRequest(
                RaftAppendEntriesRequest(
                    previousLogIndex: .zero, previousLogTerm: .zero, entries: [],
                    leaderCommit: .zero)))
        lying.replaceSubrange((lying.count - 4)..., with: [0x00, 0x00, 0x01, 0x00])
        #expect(throws: RaftMessageDecodeError.truncated) { try RaftMessageCodec.decode(lying) }
    }

    @Test func versionTagsFlagsAndTrailingBytesAreChecked() {
        let message = RaftMessage(
            from: NodeID(1), to: NodeID(2), term: Term(3),
            body: .voteResponse(isPreVote: true, granted: false))
        let bytes = RaftMessageCodec.encode(message)
        var wrongVersion = bytes
        wrongVersion[0] = 2
        #expect(throws: RaftMessageDecodeError.unsupportedVersion(2)) {
            try RaftMessageCodec.decode(wrongVersion)
        }
        var unknownTag = bytes
        unknownTag[25] = 200
        #expect(throws: RaftMessageDecodeError.unknownTag(200)) {
            try RaftMessageCodec.decode(unknownTag)
        }
        var unknownFlags = bytes
        unknownFlags[26] = 4
        #expect(throws: RaftMessageDecodeError.unknownFlags(4)) {
            try RaftMessageCodec.decode(unknownFlags)
        }
        #expect(throws: RaftMessageDecodeError.trailingBytes(2)) {
            try RaftMessageCodec.decode(bytes + [0, 0])
        }
    }

    @Test func decodesFromRawBuffers() throws {
        var generator = RaftMessageGenerator(random: SplitMix64(seed: 11))
        let message = generator.message(kind: 2)
        let bytes = RaftMessageCodec.encode(message)
        let decoded = try bytes.withUnsafeBytes { raw in try RaftMessageCodec.decode(raw) }
        #expect(decoded == message)
    }
}
