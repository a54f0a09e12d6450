import CohortCore

/// The binary form of a ``RaftMessage`` on the peer wire. Little-endian fixed-width integers,
/// length-prefixed byte strings, and a leading format version byte so a later format can be
/// told apart. The layout, all integers little-endian:
///
///     version u8 · from u64 · to u64 · term u64 · body tag u8 · body
///
/// Bodies by tag:
///
///     1 voteRequest            flags u8 (1 pre-vote, 2 leadership transfer)
///                              · last log index u64 · last log term u64
///     2 voteResponse           flags u8 (1 pre-vote, 2 granted)
///     3 appendEntriesRequest   previous index u64 · previous term u64 · leader commit u64
///                              · entry count u32 · entries
///     4 appendEntriesResponse  0 accepted: match index u64
///                              | 1 rejected: previous index u64 · hint index u64 · hint term u64
///     5 heartbeatRequest       leader commit u64 · round u64
///     6 heartbeatResponse      round u64
///     7 installSnapshotRequest snapshot index u64 · snapshot term u64 · membership
///                              · offset u64 · flags u8 (1 last chunk) · chunk length u32 · chunk
///     8 installSnapshotResponse 0 progress: snapshot index u64 · next offset u64
///                              | 1 complete: snapshot index u64
///     9 readIndexRequest       request id u64
///     10 readIndexResponse     request id u64 · index u64
///     11 timeoutNow            (nothing)
///
///     entry      = index u64 · term u64 · kind u8 · (1 normal: length u32 · data
///                  | 2 noop | 3 membership: membership | 4 normal with data omitted)
///     membership = four lists (voters, witnesses, learners, learners awaiting promotion),
///                  each a count u32 followed by that many node ids u64
///
/// Encoding appends to a caller-owned buffer, so a sender can reuse one buffer for a batch.
/// Decoding reads from a borrowed buffer, checks every count against the bytes that remain and
/// against ``RaftMessageDecodeLimits`` before allocating, and never traps.
public enum RaftMessageCodec {
    /// The format version this code writes and reads.
    public static let formatVersion: UInt8 = 1

    /// Bytes before the body: version, from, to, term, body tag.
    static let headerBytes = 1 + 8 + 8 + 8 + 1
    /// Bytes of an entry without its data: index, term, kind.
    static let entryHeaderBytes = 8 + 8 + 1

    enum BodyTag: UInt8 {
        case voteRequest = 1
        case voteResponse = 2
        case appendEntriesRequest = 3
        case appendEntriesResponse = 4
        case heartbeatRequest = 5
        case heartbeatResponse = 6
        case installSnapshotRequest = 7
        case installSnapshotResponse = 8
        case readIndexRequest = 9
        case readIndexResponse = 10
        case timeoutNow = 11
    }

    enum EntryTag: UInt8 {
        case normal = 1
        case noop = 2
        case membership = 3
        case normalDataOmitted = 4
    }

    static let flagPreVote: UInt8 = 1
    static let flagLeadershipTransfer: UInt8 = 2
    static let flagGranted: UInt8 = 2
    static let flagLastChunk: UInt8 = 1

    /// Appends the encoding of `message` to `buffer`. Traps only on a byte string longer than
    /// its u32 length field, which no bounded ``RaftConfig`` produces.
    public static func encode(_ message: RaftMessage, into buffer: inout [UInt8]) {
        buffer.reserveCapacity(buffer.count + encodedByteCount(message))
        buffer.append(formatVersion)
        append(message.from.rawValue, to: &buffer)
        append(message.to.rawValue, to: &buffer)
        append(message.term.rawValue, to: &buffer)
        switch message.body {
        case .voteRequest(let request):
            buffer.append(BodyTag.voteRequest.rawValue)
            var flags: UInt8 = 0
            if request.isPreVote { flags |= flagPreVote }
            if request.isLeadershipTransfer { flags |= flagLeadershipTransfer }
            buffer.append(flags)
            append(request.lastLogIndex.rawValue, to: &buffer)
            append(request.lastLogTerm.rawValue, to: &buffer)
        case .voteResponse(let isPreVote, let granted):
            buffer.append(BodyTag.voteResponse.rawValue)
            buffer.append((isPreVote ? flagPreVote : 0) | (granted ? flagGranted : 0))
        case .appendEntriesRequest(let request):
            buffer.append(BodyTag.appendEntriesRequest.rawValue)
            append(request.previousLogIndex.rawValue, to: &buffer)
            append(request.previousLogTerm.rawValue, to: &buffer)
            append(request.leaderCommit.rawValue, to: &buffer)
            appendCount(request.entries.count, to: &buffer)
            for entry in request.entries {
                encode(entry, into: &buffer)
            }
        case .appendEntriesResponse(.accepted(let matchIndex)):
            buffer.append(BodyTag.appendEntriesResponse.rawValue)
            buffer.append(0)
            append(matchIndex.rawValue, to: &buffer)
        case .appendEntriesResponse(.rejected(let previousLogIndex, let hintIndex, let hintTerm)):
            buffer.append(BodyTag.appendEntriesResponse.rawValue)
            buffer.append(1)
            append(previousLogIndex.rawValue, to: &buffer)
            append(hintIndex.rawValue, to: &buffer)
            append(hintTerm.rawValue, to: &buffer)
        case .heartbeatRequest(let leaderCommit, let round):
            buffer.append(BodyTag.heartbeatRequest.rawValue)
            append(leaderCommit.rawValue, to: &buffer)
            append(round, to: &buffer)
        case .heartbeatResponse(let round):
            buffer.append(BodyTag.heartbeatResponse.rawValue)
            append(round, to: &buffer)
        case .installSnapshotRequest(let request):
            precondition(
                !request.needsData,
                "a snapshot chunk of \(request.chunkLength) bytes was sent before its host filled it"
            )
            buffer.append(BodyTag.installSnapshotRequest.rawValue)
            append(request.metadata.index.rawValue, to: &buffer)
            append(request.metadata.term.rawValue, to: &buffer)
            encode(request.metadata.membership, into: &buffer)
            append(request.offset, to: &buffer)
            buffer.append(request.isLastChunk ? flagLastChunk : 0)
            appendCount(request.chunk.count, to: &buffer)
            buffer.append(contentsOf: request.chunk)
        case .installSnapshotResponse(.progress(let snapshotIndex, let nextOffset)):
            buffer.append(BodyTag.installSnapshotResponse.rawValue)
            buffer.append(0)
            append(snapshotIndex.rawValue, to: &buffer)
            append(nextOffset, to: &buffer)
        case .installSnapshotResponse(.complete(let snapshotIndex)):
            buffer.append(BodyTag.installSnapshotResponse.rawValue)
            buffer.append(1)
            append(snapshotIndex.rawValue, to: &buffer)
        case .readIndexRequest(let requestID):
            buffer.append(BodyTag.readIndexRequest.rawValue)
            append(requestID, to: &buffer)
        case .readIndexResponse(let requestID, let index):
            buffer.append(BodyTag.readIndexResponse.rawValue)
            append(requestID, to: &buffer)
            append(index.rawValue, to: &buffer)
        case .timeoutNow:
            buffer.append(BodyTag.timeoutNow.rawValue)
        }
    }

    /// The encoding of `message` as a new array.
    public static func encode(_ message: RaftMessage) -> [UInt8] {
        var buffer: [UInt8] = []
        encode(message, into: &buffer)
        return buffer
    }

    /// The exact number of bytes ``encode(_:into:)`` appends for `message`, so a sender can
    /// size buffers and count queued bytes without encoding.
    public static func encodedByteCount(_ message: RaftMessage) -> Int {
        switch message.body {
        case .voteRequest: return headerBytes + 1 + 16
        case .voteResponse: return headerBytes + 1
        case .appendEntriesRequest(let request):
            var total = headerBytes + 24 + 4
            for entry in request.entries {
                total += encodedByteCount(entry)
            }
            return total
        case .appendEntriesResponse(.accepted): return headerBytes + 1 + 8
        case .appendEntriesResponse(.rejected): return headerBytes + 1 + 24
        case .heartbeatRequest: return headerBytes + 16
        case .heartbeatResponse: return headerBytes + 8
        case .installSnapshotRequest(let request):
            return headerBytes + 16 + encodedByteCount(request.metadata.membership) + 8 + 1 + 4
                + request.chunk.count
        case .installSnapshotResponse(.progress): return headerBytes + 1 + 16
        case .installSnapshotResponse(.complete): return headerBytes + 1 + 8
        case .readIndexRequest: return headerBytes + 8
        case .readIndexResponse: return headerBytes + 16
        case .timeoutNow: return headerBytes
        }
    }

    static func encodedByteCount(_ entry: RaftEntry) -> Int {
        switch entry.kind {
        case .normal(let data): return entryHeaderBytes + 4 + data.count
        case .noop, .normalDataOmitted: return entryHeaderBytes
        case .membership(let membership): return entryHeaderBytes + encodedByteCount(membership)
        }
    }

    static func encodedByteCount(_ membership: RaftMembership) -> Int {
        let members =
            membership.voters.count + membership.witnesses.count + membership.learners.count
            + membership.learnersAwaitingPromotion.count
        return 16 + 8 * members
    }

    static func encode(_ entry: RaftEntry, into buffer: inout [UInt8]) {
        append(entry.index.rawValue, to: &buffer)
        append(entry.term.rawValue, to: &buffer)
        switch entry.kind {
        case .normal(let data):
            buffer.append(EntryTag.normal.rawValue)
            appendCount(data.count, to: &buffer)
            buffer.append(contentsOf: data)
        case .noop:
            buffer.append(EntryTag.noop.rawValue)
        case .membership(let membership):
            buffer.append(EntryTag.membership.rawValue)
            encode(membership, into: &buffer)
        case .normalDataOmitted:
            buffer.append(EntryTag.normalDataOmitted.rawValue)
        }
    }

    static func encode(_ membership: RaftMembership, into buffer: inout [UInt8]) {
        encode(membership.voters, into: &buffer)
        encode(membership.witnesses, into: &buffer)
        encode(membership.learners, into: &buffer)
        encode(membership.learnersAwaitingPromotion, into: &buffer)
    }

    static func encode(_ nodes: [NodeID], into buffer: inout [UInt8]) {
        appendCount(nodes.count, to: &buffer)
        for node in nodes {
            append(node.rawValue, to: &buffer)
        }
    }

    static func append<Value: FixedWidthInteger>(_ value: Value, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    static func appendCount(_ count: Int, to buffer: inout [UInt8]) {
        precondition(count <= Int(UInt32.max), "count \(count) exceeds the u32 length field")
        append(UInt32(count), to: &buffer)
    }
}
