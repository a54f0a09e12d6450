import CohortCore
import CohortRaft

/// Encodes a ``RaftMembership`` in Raft log records and snapshot files: four u32 counts
/// (voters, witnesses, learners, learners awaiting promotion), then that many u64 node ids in
/// the same order, little-endian.
enum RaftLogMembershipCodec {
    /// Bytes of the four counts.
    static let countsBytes = 16

    /// The encoded length of `membership`.
    static func encodedBytes(_ membership: RaftMembership) -> Int {
        countsBytes + 8
            * (membership.voters.count + membership.witnesses.count + membership.learners.count
                + membership.learnersAwaitingPromotion.count)
    }

    /// Appends the encoding of `membership` to `buffer`.
    static func encode(_ membership: RaftMembership, into buffer: inout [UInt8]) {
        let lists = [
            membership.voters, membership.witnesses, membership.learners,
            membership.learnersAwaitingPromotion,
        ]
        for list in lists { appendLittleEndian(UInt32(list.count), to: &buffer) }
        for list in lists {
            for node in list { appendLittleEndian(node.rawValue, to: &buffer) }
        }
    }

    /// Decodes a membership that fills `bytes` exactly, or nil when the bytes do not describe
    /// a valid one (checked here, because ``RaftMembership``'s initializer traps on bad input).
    static func decode(_ bytes: UnsafeRawBufferPointer) -> RaftMembership? {
        guard bytes.count >= countsBytes else { return nil }
        var counts: [Int] = []
        for slot in 0..<4 {
            counts.append(Int(readLittleEndian(bytes, at: slot * 4, as: UInt32.self)))
        }
        // Each count is at most 2^32 - 1, so the sum cannot overflow before this check.
        let idCount = counts.reduce(0, +)
        guard bytes.count == countsBytes + 8 * idCount else { return nil }
        var lists: [[NodeID]] = []
        var offset = countsBytes
        for count in counts {
            var list: [NodeID] = []
            for _ in 0..<count {
                list.append(NodeID(readLittleEndian(bytes, at: offset, as: UInt64.self)))
                offset += 8
            }
            lists.append(list)
        }
        let members = lists[0] + lists[1] + lists[2]
        guard Set(members).count == members.count, !members.contains(.none),
            Set(lists[3]).count == lists[3].count, Set(lists[3]).isSubset(of: Set(lists[2]))
        else { return nil }
        return RaftMembership(
            voters: lists[0], witnesses: lists[1], learners: lists[2],
            learnersAwaitingPromotion: lists[3])
    }
}
