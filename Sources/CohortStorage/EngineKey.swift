import Glibc

/// How the engine's one ordered key space holds both the keys clients name and the internal
/// keys of collection elements, without either ever being mistaken for the other.
///
///     user key k, k[0] != 0     k itself (every key a client is likely to use: no copy)
///     user key k, k[0] == 0     0x00 0x01 · k (escaped)
///     element of a collection   0x00 0x00 · u32 BE length of k · k · u64 BE version · element
///
/// So every internal key starts with 0x00 0x00 and sorts before every user key, the elements
/// of one collection version lie together in element order (a range scan serves HGETALL or
/// SMEMBERS), and the length makes one collection's prefix never the prefix of another's.
///
/// A collection's header (under its user key) names its version; elements of any other version
/// are orphans of a deleted, replaced or expired collection, never read, and removed from the
/// index by the expiry sweep (see `StorageEngine.sweepExpired`). A new collection's version is
/// above every version the engine holds or has handed out (see `collectionVersionHigh`), so
/// orphans never come back.
///
/// Data directories written before this layout (format marker `keys-v2` absent) are migrated
/// at open: their user keys that start with 0x00 are rewritten escaped.
public enum EngineKey {
    /// The engine key of a client's key.
    @inline(__always)
    public static func user(_ key: [UInt8]) -> [UInt8] {
        guard key.first == 0 else { return key }
        var escaped: [UInt8] = [0, 1]
        escaped.reserveCapacity(key.count + 2)
        escaped.append(contentsOf: key)
        return escaped
    }

    /// The client's key an engine key stands for; nil for an internal key.
    @inline(__always)
    public static func userKey(_ engineKey: [UInt8]) -> [UInt8]? {
        guard engineKey.first == 0 else { return engineKey }
        guard engineKey.count >= 2, engineKey[1] == 1 else { return nil }
        return Array(engineKey[2...])
    }

    /// Whether `engineKey` is internal (a collection element).
    @inline(__always)
    static func isInternal(_ engineKey: [UInt8]) -> Bool {
        engineKey.withUnsafeBufferPointer(isInternal)
    }

    /// `isInternal` of a key in place.
    static func isInternal(_ engineKey: UnsafeBufferPointer<UInt8>) -> Bool {
        engineKey.count >= 2 && engineKey[0] == 0 && engineKey[1] == 0
    }

    /// An engine key above every internal key and below every user key: scans of user keys
    /// start after it. (An element key's third byte is the top byte of a key length, which
    /// `StorageOptions.keyBytesMax` keeps far below 0xFF.)
    static let afterInternalKeys: [UInt8] = [0, 0, 0xFF]

    /// The common prefix of the element keys of version `version` of the collection at `key`.
    public static func elementPrefix(of key: [UInt8], version: UInt64) -> [UInt8] {
        var prefix: [UInt8] = [0, 0]
        prefix.reserveCapacity(14 + key.count)
        appendBigEndian(UInt32(truncatingIfNeeded: key.count), to: &prefix)
        prefix.append(contentsOf: key)
        appendBigEndian(version, to: &prefix)
        return prefix
    }

    /// The first key above every key that starts with `prefix` (an element prefix, which
    /// never consists of 0xFF bytes alone).
    static func prefixEnd(_ prefix: [UInt8]) -> [UInt8] {
        var end = prefix
        while let last = end.last, last == 0xFF { end.removeLast() }
        precondition(!end.isEmpty, "no key follows a prefix of 0xFF bytes")
        end[end.count - 1] += 1
        return end
    }

    /// The engine key of `element` in the collection whose element keys start with `prefix`.
    @inline(__always)
    public static func element(_ element: [UInt8], prefix: [UInt8]) -> [UInt8] {
        var key = prefix
        key.append(contentsOf: element)
        return key
    }

    /// The parts of an element key: the collection's user key, its version and the element.
    /// Nil when `engineKey` is not a well-formed element key.
    static func parseElement(
        _ engineKey: [UInt8]
    ) -> (key: ArraySlice<UInt8>, version: UInt64, element: ArraySlice<UInt8>)? {
        guard isInternal(engineKey), engineKey.count >= 14 else { return nil }
        var length = 0
        for position in 2..<6 { length = length << 8 | Int(engineKey[position]) }
        guard engineKey.count >= 14 + length else { return nil }
        var version: UInt64 = 0
        for position in (6 + length)..<(14 + length) {
            version = version << 8 | UInt64(engineKey[position])
        }
        return (engineKey[6..<(6 + length)], version, engineKey[(14 + length)...])
    }

    /// Whether `engineKey` starts with `prefix`.
    @inline(__always)
    static func hasPrefix(_ engineKey: [UInt8], _ prefix: [UInt8]) -> Bool {
        engineKey.withUnsafeBufferPointer { hasPrefix($0, prefix) }
    }

    /// `hasPrefix` of a key in place.
    static func hasPrefix(_ key: UnsafeBufferPointer<UInt8>, _ prefix: [UInt8]) -> Bool {
        guard key.count >= prefix.count else { return false }
        return prefix.withUnsafeBufferPointer { start in
            guard let keyBase = key.baseAddress, let startBase = start.baseAddress else {
                return true
            }
            return memcmp(keyBase, startBase, start.count) == 0
        }
    }

    private static func appendBigEndian<T: FixedWidthInteger>(_ value: T, to buffer: inout [UInt8])
    {
        var bigEndian = value.bigEndian
        withUnsafeBytes(of: &bigEndian) { buffer.append(contentsOf: $0) }
    }
}
