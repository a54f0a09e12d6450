import CohortCore

/// The byte form of a ``LogicalEntry`` inside a Raft entry. Little-endian:
///
///     0 version u8 (1) · 1 flags u8 (1 = flushes all) · 2 effect count u32 · effects
///     effect: kind u8 (1 put, 2 delete) · key length u32 · key ·
///             put only: value type u8 · expires-at ms u64 · value length u32 · value
///
/// Raft entries are checksummed by the log store and the peer frames, so the payload carries
/// no checksum of its own. Decoding never traps on any input.
public enum LogicalEntryCodec {
    /// The format version written by this code.
    public static let version: UInt8 = 1

    /// Encodes `entry`.
    public static func encode(_ entry: LogicalEntry) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(6 + entry.effects.reduce(0) { $0 + 22 + $1.key.count })
        out.append(version)
        out.append(entry.flushesAll ? 1 : 0)
        ByteCoding.append(UInt32(entry.effects.count), to: &out)
        for effect in entry.effects {
            switch effect {
            case .put(let key, let value, let valueType, let expiresAtMillis):
                out.append(1)
                ByteCoding.appendBytes(key, to: &out)
                out.append(valueType)
                ByteCoding.append(expiresAtMillis, to: &out)
                ByteCoding.appendBytes(value, to: &out)
            case .delete(let key):
                out.append(2)
                ByteCoding.appendBytes(key, to: &out)
            }
        }
        return out
    }

    /// Decodes an entry; nil when `bytes` are not a well-formed entry of a known version.
    public static func decode(_ bytes: [UInt8]) -> LogicalEntry? {
        var reader = ByteCoding.Reader(bytes)
        guard reader.byte() == version, let flags = reader.byte(), flags & ~1 == 0,
            let count = reader.uint32()
        else { return nil }
        // Each effect takes at least 5 bytes: a bound on the count before reserving.
        guard Int(count) <= reader.remaining / 5 else { return nil }
        var effects: [KeyEffect] = []
        effects.reserveCapacity(Int(count))
        for _ in 0..<count {
            switch reader.byte() {
            case 1:
                guard let key = reader.lengthPrefixed(), let valueType = reader.byte(),
                    let expiresAtMillis = reader.uint64(), let value = reader.lengthPrefixed()
                else { return nil }
                effects.append(
                    .put(
                        key: key, value: value, valueType: valueType,
                        expiresAtMillis: expiresAtMillis))
            case 2:
                guard let key = reader.lengthPrefixed() else { return nil }
                effects.append(.delete(key: key))
            default:
                return nil
            }
        }
        guard reader.remaining == 0 else { return nil }
        return LogicalEntry(flushesAll: flags == 1, effects: effects)
    }
}
