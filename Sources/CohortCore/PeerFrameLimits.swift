/// Bounds on peer frames, checked as soon as a frame's header arrives so an oversized or
/// corrupt length is refused before any of its payload is buffered.
public struct PeerFrameLimits: Hashable, Sendable {
    /// The largest payload accepted. It must exceed the largest message a node sends: a Raft
    /// message (`RaftConfig.appendEntriesBytesMax` of entries, or a snapshot chunk, plus
    /// headers) or a forward; a clustered node derives it from its bulk limit
    /// (`ClusterLimits.framePayloadBytesMax` in CohortNet).
    public var payloadBytesMax: Int

    /// 64 MiB: far above the Raft defaults (1 MiB per message, 64 KiB per snapshot chunk), for
    /// tests and tools; clustered nodes use `ClusterLimits`.
    public static let `default` = PeerFrameLimits(payloadBytesMax: 64 << 20)

    /// Creates limits. The payload bound must fit the u32 length field.
    public init(payloadBytesMax: Int) {
        precondition(
            payloadBytesMax >= 0 && payloadBytesMax <= Int(UInt32.max),
            "payloadBytesMax \(payloadBytesMax) outside 0...\(UInt32.max)")
        self.payloadBytesMax = payloadBytesMax
    }
}
