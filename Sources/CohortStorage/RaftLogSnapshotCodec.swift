import CohortCore
import CohortRaft

/// The format of a Raft log store's snapshot file, written whole and atomically. Little-endian:
///
///     0 magic u32 · 4 version u8 · 5 reserved (3 zero bytes) · 8 index u64 · 16 term u64
///     24 membership length u32 · 28 data length u64 · 36 membership · data
///     · CRC32C u32 over everything before it
enum RaftLogSnapshotCodec {
    /// "CRSN" read as a little-endian u32.
    static let magic: UInt32 = 0x4E53_5243
    /// The format version written by this code.
    static let version: UInt8 = 1
    /// Length of the fixed header.
    static let headerBytes = 36
    /// Length of the trailing checksum.
    static let checksumBytes = 4
    /// Largest membership encoding accepted (a million members).
    static let membershipBytesMax = RaftLogMembershipCodec.countsBytes + 8 * 1_000_000

    /// The file contents for `snapshot`.
    static func encode(_ snapshot: RaftSnapshot) -> [UInt8] {
        var membership: [UInt8] = []
        RaftLogMembershipCodec.encode(snapshot.metadata.membership, into: &membership)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(
            headerBytes + membership.count + snapshot.data.count + checksumBytes)
        appendLittleEndian(magic, to: &buffer)
        buffer.append(version)
        buffer.append(contentsOf: [0, 0, 0])
        appendLittleEndian(snapshot.metadata.index.rawValue, to: &buffer)
        appendLittleEndian(snapshot.metadata.term.rawValue, to: &buffer)
        appendLittleEndian(UInt32(membership.count), to: &buffer)
        appendLittleEndian(UInt64(snapshot.data.count), to: &buffer)
        buffer.append(contentsOf: membership)
        buffer.append(contentsOf: snapshot.data)
        appendLittleEndian(CRC32C.checksum(buffer), to: &buffer)
        return buffer
    }

    /// Decodes a whole snapshot file. Never traps; lengths are checked against the limits and
    /// the file size before the checksum.
    static func decode(_ bytes: [UInt8], dataBytesMax: Int) throws(RecordDecodeError)
        -> RaftSnapshot
    {
        let result: Result<RaftSnapshot, RecordDecodeError> = bytes.withUnsafeBytes { raw in
            do throws(RecordDecodeError) {
                return .success(try decode(raw, dataBytesMax: dataBytesMax))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private static func decode(
        _ bytes: UnsafeRawBufferPointer, dataBytesMax: Int
    ) throws(RecordDecodeError) -> RaftSnapshot {
        guard bytes.count >= headerBytes + checksumBytes else { throw .truncated }
        guard readLittleEndian(bytes, at: 0, as: UInt32.self) == magic else { throw .badMagic }
        guard bytes[4] == version else { throw .badVersion }
        let membershipCount = Int(readLittleEndian(bytes, at: 24, as: UInt32.self))
        let dataCount = readLittleEndian(bytes, at: 28, as: UInt64.self)
        guard membershipCount <= membershipBytesMax, dataCount <= UInt64(dataBytesMax) else {
            throw .badLength
        }
        let bodyEnd = headerBytes + membershipCount + Int(dataCount)
        guard bytes.count == bodyEnd + checksumBytes else {
            throw bytes.count < bodyEnd + checksumBytes ? .truncated : .badLength
        }
        let stored = readLittleEndian(bytes, at: bodyEnd, as: UInt32.self)
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<bodyEnd])) == stored
        else { throw .badChecksum }
        guard
            let membership = RaftLogMembershipCodec.decode(
                UnsafeRawBufferPointer(
                    rebasing: bytes[headerBytes..<(headerBytes + membershipCount)]))
        else { throw .badHeader }
        let metadata = RaftSnapshotMetadata(
            index: LogIndex(readLittleEndian(bytes, at: 8, as: UInt64.self)),
            term: Term(readLittleEndian(bytes, at: 16, as: UInt64.self)),
            membership: membership)
        let data = Array(
            UnsafeRawBufferPointer(rebasing: bytes[(headerBytes + membershipCount)..<bodyEnd]))
        return RaftSnapshot(metadata: metadata, data: data)
    }
}
