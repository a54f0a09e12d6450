import CohortCore
import CohortRaft

/// One item queued for a peer: a Raft message or an opaque application payload
/// (``CohortCore/PeerFrameKind/forward``), each for one replication group. Group 0, the
/// default keyspace, travels in the plain frame kinds; others carry their group id in front.
enum PeerOutbound: Hashable, Sendable {
    case raft(RaftMessage, group: UInt64)
    case forward([UInt8], group: UInt64)

    /// Bytes of the group id in front of a group frame's payload.
    static let groupIDBytes = 8

    /// The frame's encoded size.
    var encodedByteCount: Int {
        switch self {
        case .raft(let message, let group):
            PeerFrame.headerBytes + RaftMessageCodec.encodedByteCount(message)
                + (group == 0 ? 0 : Self.groupIDBytes)
        case .forward(let payload, let group):
            PeerFrame.headerBytes + payload.count + (group == 0 ? 0 : Self.groupIDBytes)
        }
    }

    /// Appends the item as one frame.
    func encode(into bytes: inout [UInt8]) {
        switch self {
        case .raft(let message, let group):
            let start = PeerFrame.beginFrame(kind: group == 0 ? .raft : .groupRaft, into: &bytes)
            if group != 0 { Self.appendGroup(group, to: &bytes) }
            RaftMessageCodec.encode(message, into: &bytes)
            PeerFrame.finishFrame(startingAt: start, in: &bytes)
        case .forward(let payload, let group):
            let start = PeerFrame.beginFrame(
                kind: group == 0 ? .forward : .groupForward, into: &bytes)
            if group != 0 { Self.appendGroup(group, to: &bytes) }
            bytes.append(contentsOf: payload)
            PeerFrame.finishFrame(startingAt: start, in: &bytes)
        }
    }

    private static func appendGroup(_ group: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: group >> UInt64(shift)))
        }
    }

    /// Splits a group frame's payload into the group id and the rest; nil when too short.
    static func splitGroup(
        _ payload: UnsafeRawBufferPointer
    ) -> (group: UInt64, rest: UnsafeRawBufferPointer)? {
        guard payload.count >= groupIDBytes else { return nil }
        var group: UInt64 = 0
        for offset in 0..<groupIDBytes { group = group << 8 | UInt64(payload[offset]) }
        return (group, UnsafeRawBufferPointer(rebasing: payload[groupIDBytes...]))
    }
}
