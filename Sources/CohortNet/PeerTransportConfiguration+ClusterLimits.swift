import CohortCore
import CohortRaft

extension PeerTransportConfiguration {
    /// Sets the frame, decoder and queue bounds to carry what `limits` let a node send: the
    /// largest entry, forwarded command or proxied reply (see ``ClusterLimits``).
    public mutating func apply(_ limits: ClusterLimits) {
        frameLimits = PeerFrameLimits(payloadBytesMax: limits.framePayloadBytesMax)
        var decode = RaftMessageDecodeLimits.default
        decode.entryBytesMax = max(decode.entryBytesMax, limits.entryBytesMax)
        decode.snapshotChunkBytesMax = max(
            decode.snapshotChunkBytesMax, limits.snapshotChunkBytesMax)
        messageLimits = decode
        outboundQueueBytesMax = max(outboundQueueBytesMax, limits.outboundQueueBytesMax)
    }
}
