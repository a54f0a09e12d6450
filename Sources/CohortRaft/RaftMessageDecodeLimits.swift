/// Bounds the decoder enforces before it allocates, so a hostile or corrupt length cannot make
/// a node reserve gigabytes. They are generous upper bounds on what ``RaftConfig`` lets a
/// correct sender produce, not the sender's own limits.
public struct RaftMessageDecodeLimits: Hashable, Sendable {
    /// Entries in one AppendEntries request (``RaftConfig/entriesPerMessageMax`` is far lower).
    public var entriesPerMessageMax: Int
    /// Data bytes in one normal entry (``RaftConfig/entryBytesMax``).
    public var entryBytesMax: Int
    /// Data bytes in one snapshot chunk (``RaftConfig/snapshotChunkBytesMax``).
    public var snapshotChunkBytesMax: Int
    /// Node ids in one role list of a membership.
    public var membersPerRoleMax: Int

    /// Limits that admit everything a default or tuned ``RaftConfig`` produces.
    public static let `default` = RaftMessageDecodeLimits(
        entriesPerMessageMax: 1 << 16, entryBytesMax: 64 << 20, snapshotChunkBytesMax: 64 << 20,
        membersPerRoleMax: 4_096)

    /// Creates limits; every bound must be at least one.
    public init(
        entriesPerMessageMax: Int, entryBytesMax: Int, snapshotChunkBytesMax: Int,
        membersPerRoleMax: Int
    ) {
        precondition(
            entriesPerMessageMax >= 1 && entryBytesMax >= 1 && snapshotChunkBytesMax >= 1
                && membersPerRoleMax >= 1,
            "RaftMessageDecodeLimits need positive bounds: entries \(entriesPerMessageMax), "
                + "entry bytes \(entryBytesMax), chunk bytes \(snapshotChunkBytesMax), "
                + "members \(membersPerRoleMax)")
        self.entriesPerMessageMax = entriesPerMessageMax
        self.entryBytesMax = entryBytesMax
        self.snapshotChunkBytesMax = snapshotChunkBytesMax
        self.membersPerRoleMax = membersPerRoleMax
    }
}
