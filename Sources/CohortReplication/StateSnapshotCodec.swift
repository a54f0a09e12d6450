import CohortCore

/// The byte form of a replicated state machine snapshot: every live key with its value, type
/// and expiry, in key order. Little-endian, version 2:
///
///     0 magic "CSNP" · 4 version u8 (2) · puts, each: tag u8 (1) · key (u32 length, bytes)
///     · type u8 · expiry u64 · value (u32 length, bytes) · then tag u8 (0) · put count u64
///     · CRC-32C u32 of everything before it
///
/// Written and read as a stream (``StateSnapshotEncoder``, ``StateSnapshotDecoder``): a
/// snapshot larger than memory is never held whole. Version 1 (the count first, no tags) is
/// still read. The checksum makes a damaged snapshot fail to decode instead of installing
/// wrong data.
public enum StateSnapshotCodec {
    static let magic: [UInt8] = Array("CSNP".utf8)
    /// The format version written by this code.
    public static let version: UInt8 = 2
    static let putTag: UInt8 = 1
    static let endTag: UInt8 = 0

    /// Encodes `entries` (each a ``KeyEffect/put(key:value:valueType:expiresAtMillis:)``;
    /// deletes are skipped) in memory.
    public static func encode(_ entries: some Sequence<KeyEffect>) -> [UInt8] {
        var out: [UInt8] = []
        var encoder = StateSnapshotEncoder { out.append(contentsOf: $0) }
        for case .put(let key, let value, let valueType, let expiresAtMillis) in entries {
            encoder.add(
                key: key, value: value, valueType: valueType, expiresAtMillis: expiresAtMillis)
        }
        encoder.finish()
        return out
    }

    /// Decodes a snapshot in memory into puts; nil when the bytes are damaged or not a
    /// snapshot.
    public static func decode(_ bytes: [UInt8]) -> [KeyEffect]? {
        var decoder = StateSnapshotDecoder(SnapshotByteSource(bytes))
        var entries: [KeyEffect] = []
        do {
            while let entry = try decoder.next() { entries.append(entry) }
        } catch {
            return nil
        }
        return entries
    }
}

/// Writes a state snapshot piece by piece to `sink` (see ``StateSnapshotCodec``), in pieces of
/// about ``pieceBytes``.
public struct StateSnapshotEncoder {
    /// Bytes gathered before they go to the sink.
    public static let pieceBytes = 1 << 20

    private let sink: ([UInt8]) -> Void
    private var pending: [UInt8] = []
    private var checksum: UInt32 = 0
    private var count: UInt64 = 0

    /// Starts a snapshot; `sink` receives every byte, in order.
    public init(sink: @escaping ([UInt8]) -> Void) {
        self.sink = sink
        pending = StateSnapshotCodec.magic + [StateSnapshotCodec.version]
    }

    /// Adds one key.
    public mutating func add(
        key: [UInt8], value: [UInt8], valueType: UInt8, expiresAtMillis: UInt64
    ) {
        pending.append(StateSnapshotCodec.putTag)
        ByteCoding.appendBytes(key, to: &pending)
        pending.append(valueType)
        ByteCoding.append(expiresAtMillis, to: &pending)
        ByteCoding.appendBytes(value, to: &pending)
        count += 1
        if pending.count >= Self.pieceBytes { flush() }
    }

    /// Ends the snapshot: the count and the checksum, and everything still gathered.
    public mutating func finish() {
        pending.append(StateSnapshotCodec.endTag)
        ByteCoding.append(count, to: &pending)
        checksum = CRC32C.checksum(pending, seed: checksum)
        ByteCoding.append(checksum, to: &pending)
        sink(pending)
        pending = []
    }

    private mutating func flush() {
        checksum = CRC32C.checksum(pending, seed: checksum)
        sink(pending)
        pending.removeAll(keepingCapacity: true)
    }
}

/// Reads a state snapshot key by key (see ``StateSnapshotCodec``). Nothing is trusted before
/// the checksum at the end is checked: a caller that applies puts as they come must be able to
/// undo them when ``next()`` throws (the storage engine's restore is).
public struct StateSnapshotDecoder {
    /// Why a snapshot could not be read.
    public struct Damaged: Error, CustomStringConvertible {
        /// What was wrong.
        public let description: String
    }

    private var source: SnapshotByteSource
    private var checksum: UInt32 = 0
    private var version: UInt8 = 0
    /// Version 1: puts still to read.
    private var remaining: UInt64 = 0
    private var decoded: UInt64 = 0
    private var isFinished = false
    /// Largest key or value accepted (the client protocol's bulk limit).
    private let bytesMax = 512 << 20

    /// Reads from `source`, which must start at the snapshot's magic.
    public init(_ source: SnapshotByteSource) {
        self.source = source
    }

    /// The next put, or nil after the last one once the count and checksum are checked.
    public mutating func next() throws -> KeyEffect? {
        guard !isFinished else { return nil }
        if version == 0 { try readHeader() }
        let more: Bool
        if version == 1 {
            more = remaining > 0
            if more { remaining -= 1 }
        } else {
            let tag = try take(1).first!
            guard tag == StateSnapshotCodec.putTag || tag == StateSnapshotCodec.endTag else {
                throw Damaged(description: "unknown record tag \(tag)")
            }
            more = tag == StateSnapshotCodec.putTag
        }
        guard more else {
            try finish()
            return nil
        }
        let key = try takeLengthPrefixed()
        let valueType = try take(1).first!
        let expiresAtMillis = ByteCoding.integer(littleEndian: try take(8), as: UInt64.self)
        let value = try takeLengthPrefixed()
        decoded += 1
        return .put(key: key, value: value, valueType: valueType, expiresAtMillis: expiresAtMillis)
    }

    private mutating func readHeader() throws {
        let header = try take(5)
        guard Array(header.prefix(4)) == StateSnapshotCodec.magic else {
            throw Damaged(description: "not a state snapshot")
        }
        version = header[header.startIndex + 4]
        guard version == 1 || version == 2 else {
            throw Damaged(description: "state snapshot version \(version) is not read here")
        }
        if version == 1 { remaining = ByteCoding.integer(littleEndian: try take(8)) }
    }

    private mutating func finish() throws {
        if version == 2 {
            guard ByteCoding.integer(littleEndian: try take(8)) == decoded else {
                throw Damaged(description: "the put count does not match")
            }
        }
        let expected = checksum
        guard let stored = try source.read(4), ByteCoding.integer(littleEndian: stored) == expected
        else {
            throw Damaged(description: "checksum mismatch")
        }
        guard try source.isAtEnd() else { throw Damaged(description: "bytes after the end") }
        isFinished = true
    }

    private mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard let bytes = try source.read(count) else {
            throw Damaged(description: "truncated after \(source.consumed) bytes")
        }
        checksum = CRC32C.checksum(bytes, seed: checksum)
        return bytes
    }

    private mutating func takeLengthPrefixed() throws -> [UInt8] {
        let length = Int(ByteCoding.integer(littleEndian: try take(4), as: UInt32.self))
        guard length <= bytesMax else { throw Damaged(description: "a length of \(length)") }
        return Array(try take(length))
    }
}
