import CohortCore
import CohortRaft

/// The format of a Raft log store's snapshot file. Little-endian, version 2, written as a
/// stream (``RaftSnapshotFileStream``) and read in pieces (``RaftSnapshotFile``), so that a
/// snapshot never has to fit in memory:
///
///     0 magic u32 · 4 version u8 (2) · 5 reserved (3 zero bytes) · 8 index u64 · 16 term u64
///     24 membership length u32 · 28 data length u64 · 36 data CRC32C u32
///     40 header CRC32C u32 (over bytes 0..<40 and the membership) · 44 membership · data
///
/// The header goes in last (the data's length and checksum are known only then), before the
/// file is synced and renamed into place. Version 1 (the header without the two checksums,
/// then membership, data, and one CRC32C over everything) is still read.
enum RaftLogSnapshotCodec {
    /// "CRSN" read as a little-endian u32.
    static let magic: UInt32 = 0x4E53_5243
    /// The format version written by this code.
    static let version: UInt8 = 2
    /// Length of the fixed header.
    static let headerBytes = 44
    /// Length of version 1's fixed header, and of its trailing checksum.
    static let versionOneHeaderBytes = 36
    static let checksumBytes = 4
    /// Largest membership encoding accepted (a million members).
    static let membershipBytesMax = RaftLogMembershipCodec.countsBytes + 8 * 1_000_000

    /// The header and membership of a version 2 file whose data is `dataBytes` long with
    /// checksum `dataChecksum`.
    static func header(
        _ metadata: RaftSnapshotMetadata, dataBytes: UInt64, dataChecksum: UInt32
    ) -> [UInt8] {
        var membership: [UInt8] = []
        RaftLogMembershipCodec.encode(metadata.membership, into: &membership)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(headerBytes + membership.count)
        appendLittleEndian(magic, to: &buffer)
        buffer.append(version)
        buffer.append(contentsOf: [0, 0, 0])
        appendLittleEndian(metadata.index.rawValue, to: &buffer)
        appendLittleEndian(metadata.term.rawValue, to: &buffer)
        appendLittleEndian(UInt32(membership.count), to: &buffer)
        appendLittleEndian(dataBytes, to: &buffer)
        appendLittleEndian(dataChecksum, to: &buffer)
        let headerChecksum = CRC32C.checksum(membership, seed: CRC32C.checksum(buffer))
        appendLittleEndian(headerChecksum, to: &buffer)
        buffer.append(contentsOf: membership)
        return buffer
    }

    /// Where a file's parts are, read from its first bytes (at least ``headerBytes``, or the
    /// whole file when shorter). The caller then checks the data's checksum.
    struct Layout {
        var metadata: RaftSnapshotMetadata
        var version: UInt8
        var dataOffset: Int
        var dataBytes: UInt64
        /// Version 2: the data's checksum. Version 1: the checksum over everything before it.
        var checksum: UInt32?
    }

    /// Parses a header. `read(offset, count)` returns the file's bytes (fewer at its end);
    /// `fileBytes` is its length.
    static func layout(
        fileBytes: Int, dataBytesMax: Int,
        read: (Int, Int) throws(StorageError) -> [UInt8]
    ) throws(StorageError) -> Layout {
        func corrupt(_ error: RecordDecodeError) -> StorageError {
            .corrupt(file: RaftLogStore.snapshotFileName, offset: 0, reason: error.description)
        }
        let head = try read(0, headerBytes)
        guard head.count >= versionOneHeaderBytes else { throw corrupt(.truncated) }
        let bytes = head
        let (membershipCount, dataCount, fileVersion): (Int, UInt64, UInt8) = bytes.withUnsafeBytes
        {
            (
                Int(readLittleEndian($0, at: 24, as: UInt32.self)),
                readLittleEndian($0, at: 28, as: UInt64.self), $0[4]
            )
        }
        let fileMagic = bytes.withUnsafeBytes { readLittleEndian($0, at: 0, as: UInt32.self) }
        guard fileMagic == magic else { throw corrupt(.badMagic) }
        guard fileVersion == 1 || fileVersion == 2 else { throw corrupt(.badVersion) }
        guard membershipCount <= membershipBytesMax, dataCount <= UInt64(dataBytesMax) else {
            throw corrupt(.badLength)
        }
        let fixed = fileVersion == 1 ? versionOneHeaderBytes : headerBytes
        guard head.count >= fixed else { throw corrupt(.truncated) }
        let membershipBytes = try read(fixed, membershipCount)
        guard membershipBytes.count == membershipCount else { throw corrupt(.truncated) }
        let dataOffset = fixed + membershipCount
        let trailer = fileVersion == 1 ? checksumBytes : 0
        guard fileBytes == dataOffset + Int(dataCount) + trailer else {
            throw corrupt(
                fileBytes < dataOffset + Int(dataCount) + trailer ? .truncated : .badLength)
        }
        var checksum: UInt32?
        if fileVersion == 2 {
            let stored = bytes.withUnsafeBytes { readLittleEndian($0, at: 40, as: UInt32.self) }
            let computed = CRC32C.checksum(
                membershipBytes, seed: CRC32C.checksum(bytes[0..<40]))
            guard stored == computed else { throw corrupt(.badChecksum) }
            checksum = bytes.withUnsafeBytes { readLittleEndian($0, at: 36, as: UInt32.self) }
        }
        guard
            let membership = membershipBytes.withUnsafeBytes({
                RaftLogMembershipCodec.decode($0)
            })
        else { throw corrupt(.badHeader) }
        let metadata = RaftSnapshotMetadata(
            index: LogIndex(bytes.withUnsafeBytes { readLittleEndian($0, at: 8, as: UInt64.self) }),
            term: Term(bytes.withUnsafeBytes { readLittleEndian($0, at: 16, as: UInt64.self) }),
            membership: membership)
        return Layout(
            metadata: metadata, version: fileVersion, dataOffset: dataOffset, dataBytes: dataCount,
            checksum: checksum)
    }
}
