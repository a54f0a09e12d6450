// The fuzzer compiles this file into one module with CohortCore's sources.
#if canImport(CohortCore)
    import CohortCore
#endif

/// The on-disk record format of segment files. Little-endian, 56-byte header:
///
///     0 magic u8 · 1 version u8 · 2 flags u8 (1 tombstone, 2 clear) · 3 value type u8
///     4 key length u32 · 8 value length u32 · 12 group records u32 · 16 sequence u64
///     24 HLC physical ms u64 · 32 HLC logical u32 · 36 origin u64 · 44 expires-at ms u64
///     52 CRC32C u32 over bytes 0..<52, then the key, then the value · 56 key · value
///
/// The records of one transaction share a sequence and each carries the group's record count,
/// so recovery can apply a group only when all of it is present (all-or-nothing).
/// This file depends only on CohortCore so that the fuzzer can compile it alone.
enum RecordCodec {
    /// First byte of every record; lets a scan resynchronize after a corrupt region.
    static let magic: UInt8 = 0xC5
    /// The format version written by this code.
    static let version: UInt8 = 1
    /// Length of the fixed header, checksum included.
    static let headerBytes = 56
    /// Offset of the checksum field inside the header.
    static let checksumOffset = 52
    static let flagTombstone: UInt8 = 1
    static let flagClear: UInt8 = 2
    static let flagsKnown: UInt8 = flagTombstone | flagClear

    /// The encoded length of a record with these key and value lengths.
    static func recordLength(keyCount: Int, valueCount: Int) -> Int {
        headerBytes + keyCount + valueCount
    }

    /// Appends one encoded record to `buffer`.
    static func encode<Key: Collection<UInt8>, Value: Collection<UInt8>>(
        key: Key, value: Value, metadata: VersionMetadata, isClear: Bool = false,
        groupRecords: UInt32, into buffer: inout [UInt8]
    ) {
        precondition(groupRecords >= 1, "a record belongs to a group of at least itself")
        precondition(
            key.count <= Int(UInt32.max) && value.count <= Int(UInt32.max),
            "record lengths \(key.count)/\(value.count) exceed the u32 length fields")
        var flags: UInt8 = 0
        if metadata.isTombstone { flags |= flagTombstone }
        if isClear { flags |= flagClear }
        // The header is stored field by field into zeroes appended at once: appending it a
        // byte or an integer at a time checked the buffer's capacity for every field, a
        // twentieth of a server's time per SET.
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: headerBytes))
        let headerChecksum = buffer.withUnsafeMutableBytes { all in
            let header = UnsafeMutableRawBufferPointer(rebasing: all[start..<(start + headerBytes)])
            header[0] = magic
            header[1] = version
            header[2] = flags
            header[3] = metadata.type.rawValue
            header.storeBytes(of: UInt32(key.count).littleEndian, toByteOffset: 4, as: UInt32.self)
            header.storeBytes(
                of: UInt32(value.count).littleEndian, toByteOffset: 8, as: UInt32.self)
            header.storeBytes(of: groupRecords.littleEndian, toByteOffset: 12, as: UInt32.self)
            header.storeBytes(of: metadata.sequence.littleEndian, toByteOffset: 16, as: UInt64.self)
            header.storeBytes(
                of: metadata.timestamp.physicalMillis.littleEndian, toByteOffset: 24,
                as: UInt64.self)
            header.storeBytes(
                of: metadata.timestamp.logical.littleEndian, toByteOffset: 32, as: UInt32.self)
            header.storeBytes(
                of: metadata.origin.rawValue.littleEndian, toByteOffset: 36, as: UInt64.self)
            header.storeBytes(
                of: metadata.expiresAtMillis.littleEndian, toByteOffset: 44, as: UInt64.self)
            return CRC32C.checksum(UnsafeRawBufferPointer(rebasing: header[0..<checksumOffset]))
        }
        let keyChecksum = CRC32C.checksum(key, seed: headerChecksum)
        let checksum = CRC32C.checksum(value, seed: keyChecksum)
        buffer.withUnsafeMutableBytes {
            $0.storeBytes(
                of: checksum.littleEndian, toByteOffset: start + checksumOffset, as: UInt32.self)
        }
        buffer.append(contentsOf: key)
        buffer.append(contentsOf: value)
    }

    /// Decodes the record at the start of `bytes` (which may hold more after it). Never traps;
    /// lengths are checked against the limits and the buffer before any checksum work.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, keyBytesMax: Int, valueBytesMax: Int
    ) throws(RecordDecodeError) -> DecodedRecord {
        guard bytes.count >= 1 else { throw .truncated }
        guard bytes[0] == magic else { throw .badMagic }
        guard bytes.count >= headerBytes else { throw .truncated }
        guard bytes[1] == version else { throw .badVersion }
        let flags = bytes[2]
        guard flags & ~flagsKnown == 0, let type = ValueType(rawValue: bytes[3]) else {
            throw .badHeader
        }
        let keyCount = Int(readLittleEndian(bytes, at: 4, as: UInt32.self))
        let valueCount = Int(readLittleEndian(bytes, at: 8, as: UInt32.self))
        let groupRecords = readLittleEndian(bytes, at: 12, as: UInt32.self)
        guard groupRecords >= 1 else { throw .badHeader }
        guard keyCount <= keyBytesMax, valueCount <= valueBytesMax else { throw .badLength }
        let isTombstone = flags & flagTombstone != 0
        let isClear = flags & flagClear != 0
        // Deletion markers carry no value; a clear record carries no key either.
        guard !(isTombstone || isClear) || valueCount == 0, !isClear || keyCount == 0 else {
            throw .badHeader
        }
        let recordLength = headerBytes + keyCount + valueCount
        guard bytes.count >= recordLength else { throw .truncated }
        let stored = readLittleEndian(bytes, at: checksumOffset, as: UInt32.self)
        let headerChecksum = CRC32C.checksum(
            UnsafeRawBufferPointer(rebasing: bytes[0..<checksumOffset]))
        let computed = CRC32C.checksum(
            UnsafeRawBufferPointer(rebasing: bytes[headerBytes..<recordLength]),
            seed: headerChecksum)
        guard computed == stored else { throw .badChecksum }
        let metadata = VersionMetadata(
            sequence: readLittleEndian(bytes, at: 16, as: UInt64.self),
            timestamp: HLCTimestamp(
                physicalMillis: readLittleEndian(bytes, at: 24, as: UInt64.self),
                logical: readLittleEndian(bytes, at: 32, as: UInt32.self)),
            origin: NodeID(readLittleEndian(bytes, at: 36, as: UInt64.self)),
            isTombstone: isTombstone,
            type: type,
            expiresAtMillis: readLittleEndian(bytes, at: 44, as: UInt64.self))
        return DecodedRecord(
            metadata: metadata, isClear: isClear, groupRecords: groupRecords,
            keyRange: headerBytes..<(headerBytes + keyCount),
            valueRange: (headerBytes + keyCount)..<recordLength, recordLength: recordLength)
    }

    /// Decodes a record from an array (tests and single-record reads).
    static func decode(
        _ bytes: [UInt8], keyBytesMax: Int, valueBytesMax: Int
    ) throws(RecordDecodeError) -> DecodedRecord {
        let result: Result<DecodedRecord, RecordDecodeError> = bytes.withUnsafeBytes { raw in
            do throws(RecordDecodeError) {
                return .success(
                    try decode(raw, keyBytesMax: keyBytesMax, valueBytesMax: valueBytesMax))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// Appends the little-endian bytes of an integer.
@inline(__always)
func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to buffer: inout [UInt8]) {
    var littleEndian = value.littleEndian
    withUnsafeBytes(of: &littleEndian) { buffer.append(contentsOf: $0) }
}

/// Reads a little-endian integer at `offset`; the caller has checked the bounds.
@inline(__always)
func readLittleEndian<T: FixedWidthInteger>(
    _ bytes: UnsafeRawBufferPointer, at offset: Int, as: T.Type
) -> T {
    precondition(
        offset >= 0 && offset + MemoryLayout<T>.size <= bytes.count,
        "read of \(MemoryLayout<T>.size) bytes at \(offset) outside a \(bytes.count)-byte buffer")
    return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
}
