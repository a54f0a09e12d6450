import CohortCore

/// The whole in-memory state of a cleanly closed engine: index entries in key order and the
/// segment table. Written by `close()` (`encode`, in IndexCheckpoint+Encoding.swift), read by
/// the next `open()` (`decode`) so that a restart after a clean shutdown reads one sequential
/// file and builds the index bottom-up instead of decoding every hint and record. It is only
/// trusted when every segment it names still has exactly the recorded size and no other
/// segment exists, and it is deleted as soon as it is loaded, so a crash after new writes can
/// never bring back a stale index.
struct IndexCheckpoint {
    struct Segment: Equatable {
        var id: UInt32
        var isCompacted: Bool
        var bytes: Int
        var liveBytes: Int
        var sequenceMin: UInt64?
        var sequenceMax: UInt64?
        var isSealed: Bool
        var isQuarantined: Bool
        /// `SegmentState.mayHoldDeletions`. Stored as a flag that says the opposite, so that a
        /// checkpoint written before the flag existed reads as "may hold deletions".
        var mayHoldDeletions: Bool
        /// CRC-32C of the whole segment file: a byte that changed while the node was down
        /// (a corrupted record keeps the file's size) makes the checkpoint untrusted, and the
        /// full recovery that follows reports the damage with file and offset.
        var checksum: UInt32
    }

    static let fileName = "index.checkpoint"
    static let magic: [UInt8] = Array("CIX1".utf8)

    var lastSequence: UInt64
    var clock: HLCTimestamp
    var activeID: UInt32
    var nextSegmentID: UInt32
    var segments: [Segment]
    /// Every key with its entry, in key order: decoded straight into the index's slots, so a
    /// restart allocates one object per key and no temporary copy of each key.
    var slots: [IndexSlot]

    enum DecodeError: Error, Equatable {
        case truncated, badMagic, badChecksum, unsorted, invalid(String)
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, keyBytesMax: Int) throws(DecodeError)
        -> IndexCheckpoint
    {
        guard bytes.count >= magic.count + 8, bytes.prefix(magic.count).elementsEqual(magic) else {
            throw .badMagic
        }
        let body = UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 8)])
        let stored = bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)
        guard UInt64(CRC32C.checksum(body)) == UInt64(littleEndian: stored) else {
            throw .badChecksum
        }
        var position = magic.count
        func next() throws(DecodeError) -> UInt64 {
            guard position + 8 <= body.count else { throw .truncated }
            let value = body.loadUnaligned(fromByteOffset: position, as: UInt64.self)
            position += 8
            return UInt64(littleEndian: value)
        }
        func small(_ limit: UInt64) throws(DecodeError) -> UInt64 {
            let value = try next()
            guard value <= limit else { throw .invalid("value \(value) above \(limit)") }
            return value
        }
        let lastSequence = try next()
        let physical = try next()
        let logical = try small(UInt64(UInt32.max))
        let activeID = try small(UInt64(UInt32.max))
        let nextSegmentID = try small(UInt64(UInt32.max))
        let segmentCount = try small(UInt64(body.count / 56))
        var segments: [Segment] = []
        for _ in 0..<segmentCount {
            let id = try small(UInt64(UInt32.max))
            let size = try small(UInt64(Int.max))
            let live = try small(UInt64(Int.max))
            let minimum = try next()
            let maximum = try next()
            let flags = try next()
            let checksum = UInt32(try small(UInt64(UInt32.max)))
            segments.append(
                Segment(
                    id: UInt32(id), isCompacted: flags & 1 != 0, bytes: Int(size),
                    liveBytes: Int(live), sequenceMin: flags & 8 != 0 ? minimum : nil,
                    sequenceMax: flags & 8 != 0 ? maximum : nil, isSealed: flags & 2 != 0,
                    isQuarantined: flags & 4 != 0, mayHoldDeletions: flags & 16 == 0,
                    checksum: checksum))
        }
        let entryCount = try small(UInt64(body.count / 80))
        var slots: [IndexSlot] = []
        slots.reserveCapacity(Int(entryCount))
        var previousKey: UnsafeBufferPointer<UInt8>?
        for _ in 0..<entryCount {
            let keyCount = Int(try small(UInt64(keyBytesMax)))
            guard position + keyCount <= body.count else { throw .truncated }
            let key = UnsafeRawBufferPointer(rebasing: body[position..<(position + keyCount)])
                .assumingMemoryBound(to: UInt8.self)
            position += keyCount
            if let previousKey, OrderedIndex.compare(previousKey, key) >= 0 { throw .unsorted }
            previousKey = key
            let segmentID = UInt32(try small(UInt64(UInt32.max)))
            let offset = try next()
            let recordLength = UInt32(try small(UInt64(UInt32.max)))
            let sequence = try next()
            let physicalMillis = try next()
            let logicalCount = UInt32(try small(UInt64(UInt32.max)))
            let origin = try next()
            let typeAndFlags = try next()
            let expires = try next()
            guard let type = ValueType(rawValue: UInt8(truncatingIfNeeded: typeAndFlags)) else {
                throw .invalid("unknown value type \(typeAndFlags & 0xFF)")
            }
            let entry = IndexEntry(
                segmentID: segmentID, offset: offset, recordLength: recordLength,
                metadata: VersionMetadata(
                    sequence: sequence,
                    timestamp: HLCTimestamp(physicalMillis: physicalMillis, logical: logicalCount),
                    origin: NodeID(origin), isTombstone: typeAndFlags & (1 << 8) != 0,
                    type: type, expiresAtMillis: expires))
            slots.append(IndexSlot.make(key: key, entry: entry, generation: 0))
        }
        guard position == body.count else { throw .invalid("\(body.count - position) bytes left") }
        return IndexCheckpoint(
            lastSequence: lastSequence,
            clock: HLCTimestamp(physicalMillis: physical, logical: UInt32(logical)),
            activeID: UInt32(activeID), nextSegmentID: UInt32(nextSegmentID), segments: segments,
            slots: slots)
    }
}
