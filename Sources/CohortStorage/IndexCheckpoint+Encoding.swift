import CohortCore

extension IndexCheckpoint {
    /// The bytes the encoder holds before handing them on.
    static let encodingChunkBytes = 1 << 20

    /// Encodes a checkpoint of `index` and `segments` in the layout `decode` reads, handing it
    /// to `write` in order, `chunkBytes` at a time, with the CRC-32C of all of it last.
    ///
    /// Why in chunks, straight from the tree: building the million-key file as one array
    /// first (every key and entry gathered, then appended field by field to a growing buffer)
    /// took most of a server's second-long stop, in page faults, copies and reference counts.
    static func encode(
        lastSequence: UInt64, clock: HLCTimestamp, activeID: UInt32, nextSegmentID: UInt32,
        segments: [Segment], index: OrderedIndex, chunkBytes: Int = encodingChunkBytes,
        write: (UnsafeRawBufferPointer) throws(StorageError) -> Void
    ) throws(StorageError) {
        var out = CheckpointChunkBuffer(capacity: chunkBytes)
        try out.put(bytes: magic, write)
        for value in [
            lastSequence, clock.physicalMillis, UInt64(clock.logical), UInt64(activeID),
            UInt64(nextSegmentID), UInt64(segments.count),
        ] {
            try out.put(value, write)
        }
        for segment in segments {
            let flags: UInt64 =
                (segment.isCompacted ? 1 : 0) | (segment.isSealed ? 2 : 0)
                | (segment.isQuarantined ? 4 : 0) | (segment.sequenceMin != nil ? 8 : 0)
                | (segment.mayHoldDeletions ? 0 : 16)
            for value in [
                UInt64(segment.id), UInt64(segment.bytes), UInt64(segment.liveBytes),
                segment.sequenceMin ?? 0, segment.sequenceMax ?? 0, flags,
                UInt64(segment.checksum),
            ] {
                try out.put(value, write)
            }
        }
        try out.put(UInt64(index.count), write)
        try index.forEachLeaf { (leaf) throws(StorageError) in
            for slot in leaf.slots {
                let key = slot.key
                let entry = slot.entry
                let metadata = entry.metadata
                try out.put(UInt64(key.count), write)
                try out.put(bytes: key, write)
                try out.put(UInt64(entry.segmentID), write)
                try out.put(entry.offset, write)
                try out.put(UInt64(entry.recordLength), write)
                try out.put(metadata.sequence, write)
                try out.put(metadata.timestamp.physicalMillis, write)
                try out.put(UInt64(metadata.timestamp.logical), write)
                try out.put(metadata.origin.rawValue, write)
                try out.put(
                    UInt64(metadata.type.rawValue) | (metadata.isTombstone ? 1 << 8 : 0), write)
                try out.put(metadata.expiresAtMillis, write)
            }
        }
        try out.finish(write)
    }
}

/// A fixed buffer that an encoder fills and its writer empties, keeping the running CRC-32C
/// of every byte handed on (`IndexCheckpoint.encode`).
struct CheckpointChunkBuffer: ~Copyable {
    private let base: UnsafeMutableRawPointer
    private let capacity: Int
    private var used = 0
    private var checksum: UInt32 = 0

    init(capacity: Int) {
        precondition(capacity >= 8, "a chunk holds at least one 8-byte field")
        self.capacity = capacity
        base = .allocate(byteCount: capacity, alignment: 8)
    }

    deinit { base.deallocate() }

    @inline(__always)
    mutating func put(
        _ value: UInt64, _ write: (UnsafeRawBufferPointer) throws(StorageError) -> Void
    ) throws(StorageError) {
        if used + 8 > capacity { try flush(write) }
        base.storeBytes(of: value.littleEndian, toByteOffset: used, as: UInt64.self)
        used += 8
    }

    mutating func put(
        bytes: [UInt8], _ write: (UnsafeRawBufferPointer) throws(StorageError) -> Void
    ) throws(StorageError) {
        var done = 0
        while done < bytes.count {
            if used == capacity { try flush(write) }
            let count = min(bytes.count - done, capacity - used)
            let destination = base + used
            bytes.withUnsafeBytes { source in
                destination.copyMemory(from: source.baseAddress! + done, byteCount: count)
            }
            used += count
            done += count
        }
    }

    /// Hands on what the buffer holds.
    mutating func flush(
        _ write: (UnsafeRawBufferPointer) throws(StorageError) -> Void
    ) throws(StorageError) {
        guard used > 0 else { return }
        let chunk = UnsafeRawBufferPointer(start: base, count: used)
        checksum = CRC32C.checksum(chunk, seed: checksum)
        used = 0
        try write(chunk)
    }

    /// Hands on the rest, then the checksum of everything before it (which it does not cover).
    consuming func finish(
        _ write: (UnsafeRawBufferPointer) throws(StorageError) -> Void
    ) throws(StorageError) {
        try flush(write)
        try withUnsafeBytes(of: UInt64(checksum).littleEndian) { (raw) throws(StorageError) in
            try write(raw)
        }
    }
}
