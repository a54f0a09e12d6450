import CohortCore

/// The byte form of a replicated state machine snapshot: every live key with its value, type
/// and expiry, in key order. Little-endian:
///
///     0 magic "CSNP" · 4 version u8 (1) · 5 key count u64 · puts (as in LogicalEntryCodec,
///     without the kind byte) · CRC-32C u32 of everything before it
///
/// A snapshot travels in chunks and is stored whole; the checksum makes a damaged one fail to
/// decode instead of installing wrong data.
public enum StateSnapshotCodec {
    static let magic: [UInt8] = Array("CSNP".utf8)
    /// The format version written by this code.
    public static let version: UInt8 = 1

    /// Encodes `entries` (each a ``KeyEffect/put(key:value:valueType:expiresAtMillis:)``;
    /// deletes are skipped).
    public static func encode(_ entries: some Sequence<KeyEffect>) -> [UInt8] {
        var out = magic
        out.append(version)
        let countOffset = out.count
        ByteCoding.append(UInt64(0), to: &out)
        var count: UInt64 = 0
        for case .put(let key, let value, let valueType, let expiresAtMillis) in entries {
            ByteCoding.appendBytes(key, to: &out)
            out.append(valueType)
            ByteCoding.append(expiresAtMillis, to: &out)
            ByteCoding.appendBytes(value, to: &out)
            count += 1
        }
        for offset in 0..<8 {
            out[countOffset + offset] = UInt8(truncatingIfNeeded: count >> (8 * offset))
        }
        ByteCoding.append(CRC32C.checksum(out), to: &out)
        return out
    }

    /// Decodes a snapshot into puts; nil when the bytes are damaged or not a snapshot.
    public static func decode(_ bytes: [UInt8]) -> [KeyEffect]? {
        guard bytes.count >= 17, Array(bytes[0..<4]) == magic else { return nil }
        var trailer = ByteCoding.Reader(Array(bytes[(bytes.count - 4)...]))
        guard trailer.uint32() == CRC32C.checksum(bytes[0..<(bytes.count - 4)]) else {
            return nil
        }
        var reader = ByteCoding.Reader(Array(bytes[4..<(bytes.count - 4)]))
        guard reader.byte() == version, let count = reader.uint64(),
            count <= UInt64(reader.remaining / 17)
        else { return nil }
        var entries: [KeyEffect] = []
        entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let key = reader.lengthPrefixed(), let valueType = reader.byte(),
                let expiresAtMillis = reader.uint64(), let value = reader.lengthPrefixed()
            else { return nil }
            entries.append(
                .put(key: key, value: value, valueType: valueType, expiresAtMillis: expiresAtMillis)
            )
        }
        return reader.remaining == 0 ? entries : nil
    }
}
