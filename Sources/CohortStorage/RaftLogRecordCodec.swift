import CohortCore
import CohortRaft

/// The on-disk format of Raft log records. Little-endian, 32-byte header:
///
///     0 magic u8 · 1 version u8 · 2 record type u8 · 3 entry kind u8 (0 unless an entry)
///     4 payload length u32 · 8 index u64 · 16 term u64 · 24 payload CRC32C u32
///     28 header CRC32C u32 over bytes 0..<28 · 32 payload
///
/// The header has its own checksum so that a scan looking for a valid record after damage
/// rejects a candidate after 28 bytes, without trusting (and checksumming) a garbage length.
/// Payloads: an entry's data (normal), its membership (membership), nothing (noop, normal
/// without data); a hard state's vote (u64, 0 for none; index = commit, term = term); a segment
/// start's segment id (u32; index and term = the previous position); a truncation's and a log
/// reset's nothing (index and term as named in ``RaftLogRecord``).
enum RaftLogRecordCodec {
    /// First byte of every record.
    static let magic: UInt8 = 0xA7
    /// The format version written by this code.
    static let version: UInt8 = 1
    /// Length of the fixed header, checksums included.
    static let headerBytes = 32
    /// Offset of the header checksum, which covers the bytes before it.
    static let headerChecksumOffset = 28

    static let typeSegmentStart: UInt8 = 1
    static let typeEntry: UInt8 = 2
    static let typeTruncation: UInt8 = 3
    static let typeHardState: UInt8 = 4
    static let typeLogReset: UInt8 = 5

    static let kindNone: UInt8 = 0
    static let kindNormal: UInt8 = 1
    static let kindNoop: UInt8 = 2
    static let kindMembership: UInt8 = 3
    static let kindNormalDataOmitted: UInt8 = 4

    /// The encoded length of `record`.
    static func encodedBytes(_ record: RaftLogRecord) -> Int {
        headerBytes + payloadBytes(record)
    }

    /// The payload length of `record` (entry data or membership, a vote, a segment id).
    static func payloadBytes(_ record: RaftLogRecord) -> Int {
        switch record {
        case .segmentStart: return 4
        case .hardState: return 8
        case .truncation, .logReset: return 0
        case .entry(let entry):
            switch entry.kind {
            case .normal(let data): return data.count
            case .membership(let membership): return RaftLogMembershipCodec.encodedBytes(membership)
            case .noop, .normalDataOmitted: return 0
            }
        }
    }

    /// Appends one encoded record to `buffer`.
    static func encode(_ record: RaftLogRecord, into buffer: inout [UInt8]) {
        let payloadCount = payloadBytes(record)
        precondition(
            payloadCount <= Int(UInt32.max), "payload of \(payloadCount) bytes exceeds u32")
        let type: UInt8
        var kind = kindNone
        var index: UInt64 = 0
        var term: UInt64 = 0
        // An entry's data is the payload as is (no copy); other payloads are a few bytes.
        var payload: [UInt8] = []
        switch record {
        case .segmentStart(let segmentID, let previousIndex, let previousTerm):
            type = typeSegmentStart
            index = previousIndex.rawValue
            term = previousTerm.rawValue
            appendLittleEndian(segmentID, to: &payload)
        case .entry(let entry):
            type = typeEntry
            index = entry.index.rawValue
            term = entry.term.rawValue
            switch entry.kind {
            case .normal(let data):
                kind = kindNormal
                payload = data
            case .noop:
                kind = kindNoop
            case .membership(let membership):
                kind = kindMembership
                RaftLogMembershipCodec.encode(membership, into: &payload)
            case .normalDataOmitted:
                kind = kindNormalDataOmitted
            }
        case .truncation(let truncatedIndex, let previousTerm):
            type = typeTruncation
            index = truncatedIndex.rawValue
            term = previousTerm.rawValue
        case .hardState(let hardState):
            type = typeHardState
            index = hardState.commitIndex.rawValue
            term = hardState.term.rawValue
            appendLittleEndian((hardState.votedFor ?? .none).rawValue, to: &payload)
        case .logReset(let resetIndex, let resetTerm):
            type = typeLogReset
            index = resetIndex.rawValue
            term = resetTerm.rawValue
        }
        precondition(
            payload.count == payloadCount,
            "encoded payload \(payload.count) bytes, expected \(payloadCount) for \(record)")
        let start = buffer.count
        buffer.append(magic)
        buffer.append(version)
        buffer.append(type)
        buffer.append(kind)
        appendLittleEndian(UInt32(payload.count), to: &buffer)
        appendLittleEndian(index, to: &buffer)
        appendLittleEndian(term, to: &buffer)
        appendLittleEndian(payload.withUnsafeBytes { CRC32C.checksum($0) }, to: &buffer)
        let headerChecksum = CRC32C.checksum(buffer[start..<(start + headerChecksumOffset)])
        appendLittleEndian(headerChecksum, to: &buffer)
        buffer.append(contentsOf: payload)
    }

    /// Decodes the record at the start of `bytes` (which may hold more after it), returning it
    /// with its encoded length. Never traps: the header checksum is checked before any length
    /// is trusted, and the payload length against `payloadBytesMax` and the buffer.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, payloadBytesMax: Int
    ) throws(RecordDecodeError) -> (record: RaftLogRecord, length: Int) {
        guard bytes.count >= 1 else { throw .truncated }
        guard bytes[0] == magic else { throw .badMagic }
        guard bytes.count >= headerBytes else { throw .truncated }
        let storedHeaderChecksum = readLittleEndian(
            bytes, at: headerChecksumOffset, as: UInt32.self)
        let headerChecksum = CRC32C.checksum(
            UnsafeRawBufferPointer(rebasing: bytes[0..<headerChecksumOffset]))
        guard headerChecksum == storedHeaderChecksum else { throw .badChecksum }
        guard bytes[1] == version else { throw .badVersion }
        let type = bytes[2]
        let kind = bytes[3]
        let payloadCount = Int(readLittleEndian(bytes, at: 4, as: UInt32.self))
        let index = LogIndex(readLittleEndian(bytes, at: 8, as: UInt64.self))
        let term = Term(readLittleEndian(bytes, at: 16, as: UInt64.self))
        guard payloadCount <= payloadBytesMax else { throw .badLength }
        let length = headerBytes + payloadCount
        guard bytes.count >= length else { throw .truncated }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[headerBytes..<length])
        guard CRC32C.checksum(payload) == readLittleEndian(bytes, at: 24, as: UInt32.self) else {
            throw .badChecksum
        }
        guard type == typeEntry || kind == kindNone else { throw .badHeader }
        let record: RaftLogRecord
        switch type {
        case typeSegmentStart:
            guard payloadCount == 4 else { throw .badLength }
            record = .segmentStart(
                segmentID: readLittleEndian(payload, at: 0, as: UInt32.self),
                previousIndex: index, previousTerm: term)
        case typeEntry:
            guard index > .zero else { throw .badHeader }
            let entryKind: RaftEntryKind
            switch kind {
            case kindNormal:
                entryKind = .normal(Array(payload))
            case kindNoop:
                guard payloadCount == 0 else { throw .badLength }
                entryKind = .noop
            case kindMembership:
                guard let membership = RaftLogMembershipCodec.decode(payload) else {
                    throw .badHeader
                }
                entryKind = .membership(membership)
            case kindNormalDataOmitted:
                guard payloadCount == 0 else { throw .badLength }
                entryKind = .normalDataOmitted
            default:
                throw .badHeader
            }
            record = .entry(RaftEntry(index: index, term: term, kind: entryKind))
        case typeTruncation:
            guard payloadCount == 0 else { throw .badLength }
            guard index > .zero else { throw .badHeader }
            record = .truncation(index: index, previousTerm: term)
        case typeHardState:
            guard payloadCount == 8 else { throw .badLength }
            let vote = NodeID(readLittleEndian(payload, at: 0, as: UInt64.self))
            record = .hardState(
                RaftHardState(term: term, votedFor: vote == .none ? nil : vote, commitIndex: index))
        case typeLogReset:
            guard payloadCount == 0 else { throw .badLength }
            record = .logReset(index: index, term: term)
        default:
            throw .badHeader
        }
        return (record, length)
    }

    /// Decodes a record from an array (tests).
    static func decode(
        _ bytes: [UInt8], payloadBytesMax: Int
    ) throws(RecordDecodeError) -> (record: RaftLogRecord, length: Int) {
        let result: Result<(record: RaftLogRecord, length: Int), RecordDecodeError> =
            bytes.withUnsafeBytes { raw in
                do throws(RecordDecodeError) {
                    return .success(try decode(raw, payloadBytesMax: payloadBytesMax))
                } catch {
                    return .failure(error)
                }
            }
        return try result.get()
    }
}
