import CohortCore
import CohortRaft

/// A snapshot file on disk, open for reading: its metadata and where its data is. The data is
/// read in pieces (for a leader's chunks, or to restore a state machine), never whole.
public final class RaftSnapshotFile: @unchecked Sendable {
    /// The snapshot it holds.
    public let snapshot: RaftSnapshot
    let handle: any StorageFileHandle
    let dataOffset: Int

    init(snapshot: RaftSnapshot, handle: any StorageFileHandle, dataOffset: Int) {
        self.snapshot = snapshot
        self.handle = handle
        self.dataOffset = dataOffset
    }

    /// Bytes read per piece when verifying or streaming the data.
    static let pieceBytes = 1 << 20

    /// Opens `path` and checks it whole: header, membership, and the data's checksum (read in
    /// pieces). Throws ``StorageError/corrupt(file:offset:reason:)`` when anything is wrong.
    static func open(
        path: String, device: any StorageDevice, dataBytesMax: Int
    ) throws(StorageError) -> RaftSnapshotFile {
        let handle = try device.open(path, mode: .read)
        let fileBytes = try handle.size()
        let layout = try RaftLogSnapshotCodec.layout(
            fileBytes: fileBytes, dataBytesMax: dataBytesMax
        ) { (offset, count) throws(StorageError) in
            try Self.read(handle, offset: offset, count: count)
        }
        // Version 2 checks the data alone; version 1 everything before its trailer.
        let checkedFrom = layout.version == 1 ? 0 : layout.dataOffset
        let checkedEnd = layout.dataOffset + Int(layout.dataBytes)
        var checksum: UInt32 = 0
        var offset = checkedFrom
        while offset < checkedEnd {
            let piece = try read(
                handle, offset: offset, count: min(pieceBytes, checkedEnd - offset))
            guard !piece.isEmpty else { break }
            checksum = CRC32C.checksum(piece, seed: checksum)
            offset += piece.count
        }
        let expected: UInt32
        if let stored = layout.checksum {
            expected = stored
        } else {
            let trailer = try read(handle, offset: checkedEnd, count: 4)
            guard trailer.count == 4 else {
                throw .corrupt(file: RaftLogStore.snapshotFileName, offset: 0, reason: "truncated")
            }
            expected = trailer.withUnsafeBytes { readLittleEndian($0, at: 0, as: UInt32.self) }
        }
        guard checksum == expected else {
            throw .corrupt(
                file: RaftLogStore.snapshotFileName, offset: 0,
                reason: RecordDecodeError.badChecksum.description)
        }
        return RaftSnapshotFile(
            snapshot: RaftSnapshot(metadata: layout.metadata, size: layout.dataBytes),
            handle: handle, dataOffset: layout.dataOffset)
    }

    /// `count` bytes of the data from `offset` (fewer at its end).
    public func readData(offset: UInt64, count: Int) throws(StorageError) -> [UInt8] {
        let end = min(snapshot.size, offset + UInt64(count))
        guard offset < end else { return [] }
        return try Self.read(handle, offset: dataOffset + Int(offset), count: Int(end - offset))
    }

    /// The data in pieces of about a megabyte, in order; nil after the last.
    public func dataPieces() -> () throws -> [UInt8]? {
        var offset: UInt64 = 0
        return { [self] in
            guard offset < snapshot.size else { return nil }
            let piece = try readData(offset: offset, count: Self.pieceBytes)
            guard !piece.isEmpty else {
                throw StorageError.corrupt(
                    file: RaftLogStore.snapshotFileName, offset: dataOffset + Int(offset),
                    reason: "the data ends early")
            }
            offset += UInt64(piece.count)
            return piece
        }
    }

    static func read(
        _ handle: any StorageFileHandle, offset: Int, count: Int
    ) throws(StorageError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let result = bytes.withUnsafeMutableBytes { raw in
                Result { () throws(StorageError) -> Int in
                    try handle.read(
                        into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]),
                        at: offset + filled)
                }
            }
            let got = try result.get()
            if got == 0 { break }
            filled += got
        }
        if filled < count { bytes.removeLast(count - filled) }
        return bytes
    }
}

/// Writes a snapshot file as a stream under a temporary name: the data goes out piece by
/// piece behind a placeholder header; ``finish()`` writes the real header (the data's length
/// and checksum are known only then) and fdatasyncs. The caller renames it into place.
public final class RaftSnapshotFileStream: @unchecked Sendable {
    /// The snapshot's metadata.
    public let metadata: RaftSnapshotMetadata
    let path: String
    let handle: any StorageFileHandle
    let dataOffset: Int
    let dataBytesMax: Int
    /// Data bytes written so far.
    public private(set) var dataBytes: UInt64 = 0
    private var checksum: UInt32 = 0

    /// Creates (or empties) `path` for a snapshot with `metadata`.
    init(
        path: String, metadata: RaftSnapshotMetadata, dataBytesMax: Int, device: any StorageDevice
    ) throws(StorageError) {
        self.metadata = metadata
        self.path = path
        self.dataBytesMax = dataBytesMax
        handle = try device.open(path, mode: .replace)
        let placeholder = RaftLogSnapshotCodec.header(metadata, dataBytes: 0, dataChecksum: 0)
        dataOffset = placeholder.count
        do {
            try Self.write(placeholder, to: handle, at: 0)
        } catch {
            try? device.remove(path)
            throw error
        }
    }

    /// Appends data.
    public func append(_ bytes: [UInt8]) throws(StorageError) {
        guard dataBytes + UInt64(bytes.count) <= UInt64(dataBytesMax) else {
            throw .valueTooLarge(bytes: Int(dataBytes) + bytes.count, max: dataBytesMax)
        }
        try Self.write(bytes, to: handle, at: dataOffset + Int(dataBytes))
        checksum = CRC32C.checksum(bytes, seed: checksum)
        dataBytes += UInt64(bytes.count)
    }

    /// Writes the header and makes the file durable; returns the snapshot it holds.
    public func finish() throws(StorageError) -> RaftSnapshot {
        let header = RaftLogSnapshotCodec.header(
            metadata, dataBytes: dataBytes, dataChecksum: checksum)
        precondition(header.count == dataOffset, "the header changed length")
        try Self.write(header, to: handle, at: 0)
        try handle.truncate(to: dataOffset + Int(dataBytes))
        try handle.sync()
        return RaftSnapshot(metadata: metadata, size: dataBytes)
    }

    private static func write(
        _ bytes: [UInt8], to handle: any StorageFileHandle, at offset: Int
    ) throws(StorageError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(StorageError) in try handle.write(raw, at: offset) }
        }
        try result.get()
    }
}
