import CohortCore

extension RaftMessageCodec {
    /// Decodes exactly one message that fills `bytes`. Throws on anything malformed (truncated,
    /// unknown version or tag, counts over `limits`, invalid membership, trailing bytes) and
    /// never traps, whatever the input.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, limits: RaftMessageDecodeLimits = .default
    ) throws(RaftMessageDecodeError) -> RaftMessage {
        var reader = RaftMessageReader(bytes)
        let version = try reader.byte()
        guard version == formatVersion else { throw .unsupportedVersion(version) }
        let from = NodeID(try reader.word())
        let to = NodeID(try reader.word())
        let term = Term(try reader.word())
        let body = try decodeBody(&reader, limits: limits)
        guard reader.remainingBytes == 0 else { throw .trailingBytes(reader.remainingBytes) }
        return RaftMessage(from: from, to: to, term: term, body: body)
    }

    /// Decodes exactly one message that fills `bytes`, as the raw-buffer overload does.
    public static func decode(
        _ bytes: ArraySlice<UInt8>, limits: RaftMessageDecodeLimits = .default
    ) throws(RaftMessageDecodeError) -> RaftMessage {
        let result: Result<RaftMessage, RaftMessageDecodeError> = bytes.withUnsafeBytes { raw in
            do throws(RaftMessageDecodeError) {
                return .success(try decode(raw, limits: limits))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Decodes exactly one message that fills `bytes`.
    public static func decode(
        _ bytes: [UInt8], limits: RaftMessageDecodeLimits = .default
    ) throws(RaftMessageDecodeError) -> RaftMessage {
        try decode(bytes[...], limits: limits)
    }

    private static func decodeBody(
        _ reader: inout RaftMessageReader, limits: RaftMessageDecodeLimits
    ) throws(RaftMessageDecodeError) -> RaftMessageBody {
        let tagByte = try reader.byte()
        guard let tag = BodyTag(rawValue: tagByte) else { throw .unknownTag(tagByte) }
        switch tag {
        case .voteRequest:
            let flags = try flagsByte(&reader, known: flagPreVote | flagLeadershipTransfer)
            let lastLogIndex = LogIndex(try reader.word())
            let lastLogTerm = Term(try reader.word())
            return .voteRequest(
                RaftVoteRequest(
                    isPreVote: flags & flagPreVote != 0, lastLogIndex: lastLogIndex,
                    lastLogTerm: lastLogTerm,
                    isLeadershipTransfer: flags & flagLeadershipTransfer != 0))
        case .voteResponse:
            let flags = try flagsByte(&reader, known: flagPreVote | flagGranted)
            return .voteResponse(
                isPreVote: flags & flagPreVote != 0, granted: flags & flagGranted != 0)
        case .appendEntriesRequest:
            let previousLogIndex = LogIndex(try reader.word())
            let previousLogTerm = Term(try reader.word())
            let leaderCommit = LogIndex(try reader.word())
            let count = try reader.count(
                limit: limits.entriesPerMessageMax, itemBytesMin: entryHeaderBytes)
            var entries: [RaftEntry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                entries.append(try decodeEntry(&reader, limits: limits))
            }
            return .appendEntriesRequest(
                RaftAppendEntriesRequest(
                    previousLogIndex: previousLogIndex, previousLogTerm: previousLogTerm,
                    entries: entries, leaderCommit: leaderCommit))
        case .appendEntriesResponse:
            let variant = try reader.byte()
            switch variant {
            case 0:
                return .appendEntriesResponse(.accepted(matchIndex: LogIndex(try reader.word())))
            case 1:
                let previousLogIndex = LogIndex(try reader.word())
                let hintIndex = LogIndex(try reader.word())
                let hintTerm = Term(try reader.word())
                return .appendEntriesResponse(
                    .rejected(
                        previousLogIndex: previousLogIndex, hintIndex: hintIndex,
                        hintTerm: hintTerm))
            default:
                throw .unknownTag(variant)
            }
        case .heartbeatRequest:
            let leaderCommit = LogIndex(try reader.word())
            let round = try reader.word()
            return .heartbeatRequest(leaderCommit: leaderCommit, round: round)
        case .heartbeatResponse:
            return .heartbeatResponse(round: try reader.word())
        case .installSnapshotRequest:
            let index = LogIndex(try reader.word())
            let snapshotTerm = Term(try reader.word())
            let membership = try decodeMembership(&reader, limits: limits)
            let offset = try reader.word()
            let flags = try flagsByte(&reader, known: flagLastChunk)
            let chunk = try reader.byteString(limit: limits.snapshotChunkBytesMax)
            return .installSnapshotRequest(
                RaftInstallSnapshotRequest(
                    metadata: RaftSnapshotMetadata(
                        index: index, term: snapshotTerm, membership: membership),
                    offset: offset, chunk: chunk, isLastChunk: flags & flagLastChunk != 0))
        case .installSnapshotResponse:
            let variant = try reader.byte()
            switch variant {
            case 0:
                let snapshotIndex = LogIndex(try reader.word())
                let nextOffset = try reader.word()
                return .installSnapshotResponse(
                    .progress(snapshotIndex: snapshotIndex, nextOffset: nextOffset))
            case 1:
                return .installSnapshotResponse(
                    .complete(snapshotIndex: LogIndex(try reader.word())))
            default:
                throw .unknownTag(variant)
            }
        case .readIndexRequest:
            return .readIndexRequest(requestID: try reader.word())
        case .readIndexResponse:
            let requestID = try reader.word()
            let index = LogIndex(try reader.word())
            return .readIndexResponse(requestID: requestID, index: index)
        case .timeoutNow:
            return .timeoutNow
        }
    }

    private static func flagsByte(
        _ reader: inout RaftMessageReader, known: UInt8
    ) throws(RaftMessageDecodeError) -> UInt8 {
        let flags = try reader.byte()
        guard flags & ~known == 0 else { throw .unknownFlags(flags) }
        return flags
    }

    private static func decodeEntry(
        _ reader: inout RaftMessageReader, limits: RaftMessageDecodeLimits
    ) throws(RaftMessageDecodeError) -> RaftEntry {
        let index = LogIndex(try reader.word())
        let term = Term(try reader.word())
        let tagByte = try reader.byte()
        guard let tag = EntryTag(rawValue: tagByte) else { throw .unknownTag(tagByte) }
        let kind: RaftEntryKind
        switch tag {
        case .normal: kind = .normal(try reader.byteString(limit: limits.entryBytesMax))
        case .noop: kind = .noop
        case .membership: kind = .membership(try decodeMembership(&reader, limits: limits))
        case .normalDataOmitted: kind = .normalDataOmitted
        }
        return RaftEntry(index: index, term: term, kind: kind)
    }

    /// Decodes a membership and checks, before constructing it, every condition under which
    /// `RaftMembership.init` would trap: a node in two roles, a promotion candidate that is not
    /// a learner, `NodeID.none` as a member. Each list must also be strictly ascending, as the
    /// encoder writes it (so a membership built with a repeated promotion candidate, which
    /// `RaftMembership` sorts but does not reject, does not survive the wire).
    private static func decodeMembership(
        _ reader: inout RaftMessageReader, limits: RaftMessageDecodeLimits
    ) throws(RaftMessageDecodeError) -> RaftMembership {
        let voters = try decodeNodeList(&reader, limits: limits)
        let witnesses = try decodeNodeList(&reader, limits: limits)
        let learners = try decodeNodeList(&reader, limits: limits)
        let awaitingPromotion = try decodeNodeList(&reader, limits: limits)
        var members = voters + witnesses + learners
        members.sort()
        for position in members.indices {
            if members[position] == .none { throw .invalidMembership }
            if position > 0 && members[position - 1] == members[position] {
                throw .invalidMembership
            }
        }
        let sortedLearners = learners.sorted()
        for node in awaitingPromotion where !binaryContains(sortedLearners, node) {
            throw .invalidMembership
        }
        return RaftMembership(
            voters: voters, witnesses: witnesses, learners: learners,
            learnersAwaitingPromotion: awaitingPromotion)
    }

    private static func decodeNodeList(
        _ reader: inout RaftMessageReader, limits: RaftMessageDecodeLimits
    ) throws(RaftMessageDecodeError) -> [NodeID] {
        let count = try reader.count(limit: limits.membersPerRoleMax, itemBytesMin: 8)
        var nodes: [NodeID] = []
        nodes.reserveCapacity(count)
        for _ in 0..<count {
            let node = NodeID(try reader.word())
            // Lists are written sorted; requiring strictly ascending order gives every
            // membership exactly one encoding and rules out duplicates within a list.
            if let last = nodes.last, last >= node { throw .invalidMembership }
            nodes.append(node)
        }
        return nodes
    }

    private static func binaryContains(_ sorted: [NodeID], _ node: NodeID) -> Bool {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < node {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low < sorted.count && sorted[low] == node
    }
}
