// The fuzzer compiles this file into one module with CohortCore's sources.
#if canImport(CohortCore)
    import CohortCore
#endif

/// The hint file format, written when a segment is sealed. Little-endian:
///
///     0 magic "CHNT" · 4 version u8 · 5 three zero bytes · 8 segment id u32 · 12 entry count u32
///     16 entries: flags u8 (1 tombstone, 2 clear) · type u8 · key length u32 · sequence u64 ·
///        HLC physical u64 · HLC logical u32 · origin u64 · expires-at u64 · offset u64 ·
///        record length u32 · key
///     end: CRC32C u32 over everything before it
///
/// One checksum covers the whole file: a hint is either entirely trusted or not used.
/// Depends only on CohortCore so that the fuzzer can compile it alone.
enum HintCodec {
    static let magic: [UInt8] = [0x43, 0x48, 0x4E, 0x54]
    static let version: UInt8 = 1
    static let headerBytes = 16
    static let entryFixedBytes = 54
    static let trailerBytes = 4

    /// Encodes the hint file of segment `segmentID`.
    static func encode(segmentID: UInt32, entries: [HintEntry]) -> [UInt8] {
        precondition(entries.count <= Int(UInt32.max), "\(entries.count) hint entries overflow u32")
        var buffer: [UInt8] = []
        buffer.reserveCapacity(
            headerBytes + trailerBytes
                + entries.reduce(0) { $0 + entryFixedBytes + $1.key.count })
        buffer.append(contentsOf: magic)
        buffer.append(contentsOf: [version, 0, 0, 0])
        appendLittleEndian(segmentID, to: &buffer)
        appendLittleEndian(UInt32(entries.count), to: &buffer)
        for entry in entries {
            var flags: UInt8 = 0
            if entry.metadata.isTombstone { flags |= RecordCodec.flagTombstone }
            if entry.isClear { flags |= RecordCodec.flagClear }
            buffer.append(flags)
            buffer.append(entry.metadata.type.rawValue)
            appendLittleEndian(UInt32(entry.key.count), to: &buffer)
            appendLittleEndian(entry.metadata.sequence, to: &buffer)
            appendLittleEndian(entry.metadata.timestamp.physicalMillis, to: &buffer)
            appendLittleEndian(entry.metadata.timestamp.logical, to: &buffer)
            appendLittleEndian(entry.metadata.origin.rawValue, to: &buffer)
            appendLittleEndian(entry.metadata.expiresAtMillis, to: &buffer)
            appendLittleEndian(entry.offset, to: &buffer)
            appendLittleEndian(entry.recordLength, to: &buffer)
            buffer.append(contentsOf: entry.key)
        }
        appendLittleEndian(CRC32C.checksum(buffer), to: &buffer)
        return buffer
    }

    /// Decodes a hint file. Never traps on arbitrary bytes.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, keyBytesMax: Int
    ) throws(HintDecodeError) -> (segmentID: UInt32, entries: [HintEntry]) {
        guard bytes.count >= headerBytes + trailerBytes else { throw .truncated }
        guard bytes[0] == magic[0], bytes[1] == magic[1], bytes[2] == magic[2],
            bytes[3] == magic[3], bytes[4] == version
        else { throw .badHeader }
        let bodyEnd = bytes.count - trailerBytes
        let stored = readLittleEndian(bytes, at: bodyEnd, as: UInt32.self)
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<bodyEnd])) == stored
        else { throw .badChecksum }
        let segmentID = readLittleEndian(bytes, at: 8, as: UInt32.self)
        let count = Int(readLittleEndian(bytes, at: 12, as: UInt32.self))
        // Each entry takes at least its fixed part: bound the count before reserving memory.
        guard count <= (bodyEnd - headerBytes) / entryFixedBytes else { throw .truncated }
        var entries: [HintEntry] = []
        entries.reserveCapacity(count)
        var position = headerBytes
        for _ in 0..<count {
            guard bodyEnd - position >= entryFixedBytes else { throw .truncated }
            let flags = bytes[position]
            guard flags & ~RecordCodec.flagsKnown == 0,
                let type = ValueType(rawValue: bytes[position + 1])
            else { throw .badEntry }
            let keyCount = Int(readLittleEndian(bytes, at: position + 2, as: UInt32.self))
            guard keyCount <= keyBytesMax else { throw .badEntry }
            let keyStart = position + entryFixedBytes
            guard bodyEnd - keyStart >= keyCount else { throw .truncated }
            let metadata = VersionMetadata(
                sequence: readLittleEndian(bytes, at: position + 6, as: UInt64.self),
                timestamp: HLCTimestamp(
                    physicalMillis: readLittleEndian(bytes, at: position + 14, as: UInt64.self),
                    logical: readLittleEndian(bytes, at: position + 22, as: UInt32.self)),
                origin: NodeID(readLittleEndian(bytes, at: position + 26, as: UInt64.self)),
                isTombstone: flags & RecordCodec.flagTombstone != 0,
                type: type,
                expiresAtMillis: readLittleEndian(bytes, at: position + 34, as: UInt64.self))
            let offset = readLittleEndian(bytes, at: position + 42, as: UInt64.self)
            let recordLength = readLittleEndian(bytes, at: position + 50, as: UInt32.self)
            let key = [UInt8](
                UnsafeRawBufferPointer(rebasing: bytes[keyStart..<(keyStart + keyCount)]))
            entries.append(
                HintEntry(
                    key: key, metadata: metadata, isClear: flags & RecordCodec.flagClear != 0,
                    offset: offset, recordLength: recordLength))
            position = keyStart + keyCount
        }
        guard position == bodyEnd else { throw .badEntry }
        return (segmentID, entries)
    }
}
