/// Why bytes could not be decoded as a ``RaftMessage``. Decoding never traps: every malformed
/// input, however it was produced, maps to one of these.
public enum RaftMessageDecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The bytes end before the message does.
    case truncated
    /// The format version byte is not one this decoder reads.
    case unsupportedVersion(UInt8)
    /// A tag byte (message kind, entry kind, response variant) this decoder does not know.
    case unknownTag(UInt8)
    /// A flags byte with bits this decoder does not know.
    case unknownFlags(UInt8)
    /// A count or length above its limit in ``RaftMessageDecodeLimits``, or above what the
    /// remaining bytes could hold.
    case limitExceeded
    /// A membership that ``RaftMembership/init(voters:witnesses:learners:learnersAwaitingPromotion:)``
    /// would reject: a node in two roles, a promotion candidate that is not a learner, or
    /// `NodeID.none` as a member.
    case invalidMembership
    /// Bytes remain after a complete message.
    case trailingBytes(Int)

    /// A short English description for logs.
    public var description: String {
        switch self {
        case .truncated: "truncated Raft message"
        case .unsupportedVersion(let version): "unsupported Raft message version \(version)"
        case .unknownTag(let tag): "unknown Raft message tag \(tag)"
        case .unknownFlags(let flags): "unknown Raft message flags \(flags)"
        case .limitExceeded: "Raft message count or length over its limit"
        case .invalidMembership: "invalid membership in Raft message"
        case .trailingBytes(let count): "\(count) trailing bytes after Raft message"
        }
    }
}
