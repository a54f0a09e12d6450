/// A log entry that changes who is in the cluster rather than what it stores: a node's name,
/// the address the others dial, and the role it is to take. Every node records the address
/// when it applies the entry; the leader then proposes the Raft membership change.
public struct MemberEntry: Hashable, Sendable {
    /// The role a node joins with.
    public enum Role: UInt8, Hashable, Sendable, CaseIterable {
        /// Caught up as a learner first, then promoted to voter.
        case voter = 1
        /// A permanent non-voting read replica.
        case learner = 2
        /// A voter that keeps log metadata but no data.
        case witness = 3
    }

    /// The node's name (its `--id`).
    public var name: String
    /// The host other nodes dial.
    public var host: String
    /// The peer port other nodes dial.
    public var port: Int
    /// Its role.
    public var role: Role

    /// Creates an entry.
    public init(name: String, host: String, port: Int, role: Role) {
        self.name = name
        self.host = host
        self.port = port
        self.role = role
    }

    /// The first byte of an encoded member entry; a ``LogicalEntry`` starts with its version
    /// (1), so the two never collide.
    public static let tag: UInt8 = 0xC1

    /// The byte form: tag u8 · role u8 · port u32 · name (u32 length, bytes) · host (same).
    public func encoded() -> [UInt8] {
        var out: [UInt8] = [Self.tag, role.rawValue]
        ByteCoding.append(UInt32(clamping: port), to: &out)
        ByteCoding.appendBytes(Array(name.utf8), to: &out)
        ByteCoding.appendBytes(Array(host.utf8), to: &out)
        return out
    }

    /// Decodes an entry; nil for anything malformed.
    public static func decode(_ bytes: [UInt8]) -> MemberEntry? {
        var reader = ByteCoding.Reader(bytes)
        guard reader.byte() == tag, let roleByte = reader.byte(),
            let role = Role(rawValue: roleByte),
            let port = reader.uint32(), port > 0, port <= 65_535,
            let name = reader.lengthPrefixed(),
            let host = reader.lengthPrefixed(), reader.remaining == 0, !name.isEmpty, !host.isEmpty
        else { return nil }
        return MemberEntry(
            name: String(decoding: name, as: UTF8.self),
            host: String(decoding: host, as: UTF8.self),
            port: Int(port), role: role)
    }
}
