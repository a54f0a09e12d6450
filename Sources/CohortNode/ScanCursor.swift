import CohortCore

/// The layout of the integer cursors SCAN hands out: which node issued a cursor, and that
/// node's serial for the position. A position lives in the issuing node's ``ScanCursorTable``
/// (keys are arbitrary bytes; Redis clients insist on 64-bit integers), so a cursor is valid on
/// any node because any node can tell who issued it and send the next page there
/// (``NodeShell`` does, for proxied keyspaces).
///
/// Bits, most significant first: `0` (so clients that parse a signed 64-bit integer read it),
/// 24 bits of issuer tag, 39 bits of serial. Cursor 0 starts a scan, as in Redis.
public struct ScanCursor: Hashable, Sendable {
    /// Bits of the serial.
    public static let serialBits = 39
    /// Bits of the issuer tag.
    public static let tagBits = 24
    /// The largest serial; serials wrap below it.
    public static let serialMax: UInt64 = (1 << UInt64(serialBits)) - 1
    static let tagMask: UInt64 = (1 << UInt64(tagBits)) - 1

    /// The cursor as the client sees it.
    public let rawValue: UInt64

    /// The cursor a client sent.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The cursor for `serial` issued by the node tagged `tag`.
    public init(tag: UInt32, serial: UInt64) {
        precondition(UInt64(tag) <= Self.tagMask && tag != 0, "scan cursor tag \(tag) out of range")
        precondition(
            serial != 0 && serial <= Self.serialMax, "scan cursor serial \(serial) out of range")
        rawValue = UInt64(tag) << UInt64(Self.serialBits) | serial
    }

    /// The issuing node's tag (0 for cursor 0, or a number no node issued).
    public var tag: UInt32 { UInt32((rawValue >> UInt64(Self.serialBits)) & Self.tagMask) }

    /// The issuer's serial.
    public var serial: UInt64 { rawValue & Self.serialMax }

    /// The tag of the node called `nodeName`: 24 bits of its name's FNV-1a hash, never 0. Two
    /// members of one cluster share a tag with odds of about one in 16 million per pair; even
    /// then a cursor sent to the wrong one fails its lookup (serials start apart, see
    /// ``ScanCursorTable``) rather than resuming elsewhere.
    public static func tag(ofNode nodeName: String) -> UInt32 {
        let hash = FNV1a.hash(nodeName.utf8)
        let tag = UInt32(truncatingIfNeeded: (hash ^ (hash >> 32)) & tagMask)
        return tag == 0 ? 1 : tag
    }

    /// The cursor of a `SCAN <cursor> ...` command, if `arguments` is one with a nonzero,
    /// well-formed cursor.
    public static func continuing(_ arguments: [[UInt8]]) -> ScanCursor? {
        guard arguments.count >= 2, CommandExecutor.isNamed(arguments[0], "SCAN"),
            let value = UInt64(String(decoding: arguments[1], as: UTF8.self)), value != 0
        else { return nil }
        return ScanCursor(rawValue: value)
    }
}
