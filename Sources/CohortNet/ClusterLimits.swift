import CohortCore
import CohortNode
import CohortRaft
import CohortReplication

/// Every byte bound on a clustered write's path, derived in one place from the client
/// protocol's limits (``ServerConfiguration/bulkBytesMax``, 512 MiB like Redis's
/// proto-max-bulk-len, and ``ServerConfiguration/keyBytesMax``), so that a value a client may
/// send standalone also replicates.
///
/// The path, and the bound each step enforces:
/// 1. a follower forwards the command's arguments (``commandBytesMax``; ``ForwardMessage``),
/// 2. the leader proposes the command's effects as one log entry (``entryBytesMax``:
///    `RaftConfig.entryBytesMax` and the log store's record bound),
/// 3. AppendEntries carries it alone or in a batch (``appendEntriesBytesMax``), in peer frames
///    (``framePayloadBytesMax``: `PeerFrameLimits`, the forward messages, the Raft decoder)
///    through per-peer queues (``outboundQueueBytesMax``),
/// 4. a snapshot carries it in chunks (``snapshotChunkBytesMax``, ``snapshotBytesMax``).
///
/// A write beyond a bound gets a non-retryable `ERR` naming it (``refusal(forArguments:)``,
/// ``entryTooLargeReply``), never `TRYAGAIN`: retrying cannot make it fit.
public struct ClusterLimits: Hashable, Sendable {
    /// Argument bytes allowed beyond one key and one value at their limits: the command name,
    /// options (`EX`, `PX`, `KEEPTTL`, ...) and every argument's 4-byte length.
    public static let commandOverheadBytes = 64 << 10
    /// Bytes of a log entry beyond its command's argument bytes: the entry's header and each
    /// effect's kind, value type and expiry (see ``LogicalEntryCodec``).
    public static let entryOverheadBytes = 64 << 10
    /// Bytes of a peer frame beyond the largest entry, command or reply it carries: the Raft
    /// message header and the per-entry headers of a full batch, or a forward's header.
    public static let frameOverheadBytes = 1 << 20
    /// Queued bytes per peer beside one largest frame: heartbeats and other groups' traffic
    /// keep flowing while a large entry is on its way.
    public static let outboundQueueSpareBytes = 64 << 20
    /// Payload bytes of one AppendEntries batch; a single larger entry still goes alone, so
    /// large values do not make every batch large.
    public static let appendEntriesBatchBytes = 4 << 20
    /// Bytes of one snapshot chunk.
    public static let snapshotChunkBytes = 1 << 20
    /// The largest snapshot a follower accepts. Snapshots stream from disk to disk (never held
    /// in memory), so this bounds only the disk a transfer may take: 1 TiB.
    public static let snapshotBytesFloor = 1 << 40

    /// The largest bulk string a client may send (``ServerConfiguration/bulkBytesMax``).
    public let bulkBytesMax: Int
    /// The largest key (``ServerConfiguration/keyBytesMax``).
    public let keyBytesMax: Int

    /// The limits of `configuration`.
    public init(_ configuration: ServerConfiguration) {
        bulkBytesMax = configuration.bulkBytesMax
        keyBytesMax = configuration.keyBytesMax
    }

    /// The most argument bytes (each argument counted with its 4-byte length, as
    /// ``ForwardMessage`` encodes it) of a write that replicates: one key and one value at
    /// the protocol's limits, plus ``commandOverheadBytes``.
    public var commandBytesMax: Int { keyBytesMax + bulkBytesMax + Self.commandOverheadBytes }

    /// The largest log entry (`RaftConfig.entryBytesMax`): a command of ``commandBytesMax``
    /// plus ``entryOverheadBytes``. An APPEND or SETRANGE whose effect carries the whole
    /// value is bounded the same way, since storage bounds values by ``bulkBytesMax``.
    public var entryBytesMax: Int { commandBytesMax + Self.entryOverheadBytes }

    /// The most entry bytes in one AppendEntries request: a batch, or one larger entry alone.
    public var appendEntriesBytesMax: Int { max(Self.appendEntriesBatchBytes, entryBytesMax) }

    /// The largest peer frame payload: an AppendEntries request of ``appendEntriesBytesMax``,
    /// a forwarded command of ``commandBytesMax``, a proxied reply of a value, or a snapshot
    /// chunk, whichever is largest, plus ``frameOverheadBytes``. Also the largest forward
    /// message.
    public var framePayloadBytesMax: Int {
        max(appendEntriesBytesMax, commandBytesMax, bulkBytesMax, Self.snapshotChunkBytes)
            + Self.frameOverheadBytes
    }

    /// Encoded bytes queued per peer: one largest frame plus ``outboundQueueSpareBytes``.
    public var outboundQueueBytesMax: Int { framePayloadBytesMax + Self.outboundQueueSpareBytes }

    /// Bytes of one snapshot chunk.
    public var snapshotChunkBytesMax: Int { Self.snapshotChunkBytes }

    /// The largest snapshot a follower receives and stores: at least two largest entries.
    public var snapshotBytesMax: Int { max(Self.snapshotBytesFloor, 2 * entryBytesMax) }

    /// Argument bytes of `arguments` as ``commandBytesMax`` counts them.
    public static func commandBytes(_ arguments: [[UInt8]]) -> Int {
        arguments.reduce(0) { $0 + 4 + $1.count }
    }

    /// The error for a write whose arguments exceed ``commandBytesMax``, or nil when they fit.
    public func refusal(forArguments arguments: [[UInt8]]) -> RESPValue? {
        let bytes = Self.commandBytes(arguments)
        guard bytes > commandBytesMax else { return nil }
        return .error(
            "ERR the command's \(bytes) argument bytes exceed the cluster's limit of \(commandBytesMax) (commandBytesMax: one key and one value at key-bytes-max and bulk-bytes-max)"
        )
    }

    /// The reply to a write the leader refused: ``entryTooLargeReply`` when it can never fit,
    /// otherwise a retryable `TRYAGAIN` (nothing was applied, and the refusal passes).
    public func reply(refusing rejection: RaftRejection) -> RESPValue {
        LeaderGroup.refusal(of: rejection, entryBytesMax: entryBytesMax)
    }

    /// The error for a write whose log entry exceeds ``entryBytesMax`` (Raft refused it as
    /// `entryTooLarge`): many keys at once can exceed it when each fits.
    public var entryTooLargeReply: RESPValue { reply(refusing: .entryTooLarge) }
}
