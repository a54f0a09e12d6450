import CohortCore

/// Where a leaderless keyspace's keys live: consistent hashing over a fixed number of ring
/// partitions (Riak's scheme, so ownership moves in whole partitions), each owned by one
/// node, and for each key a preference list of the first N distinct nodes met walking
/// clockwise from the key's partition.
///
/// Partition `p` is owned by the members in a fixed round-robin order (`members[p % count]`,
/// members sorted by id), so every node computes the same ring from the same member list.
public struct LeaderlessRing: Hashable, Sendable {
    /// Ring partitions (a power of two, as Riak's ring size).
    public let partitionCount: Int
    /// The nodes, sorted by id.
    public let members: [NodeID]
    /// Replicas per key (N), at most the member count.
    public let replicas: Int

    /// Each partition's preference list, computed once: every request and ack asks for one.
    private let lists: [[NodeID]]

    public static let defaultPartitionCount = 64

    public init(members: [NodeID], replicas: Int, partitionCount: Int = defaultPartitionCount) {
        precondition(!members.isEmpty, "a ring needs members")
        precondition(partitionCount > 0 && partitionCount & (partitionCount - 1) == 0)
        let sorted = Array(Set(members)).sorted()
        let replicas = min(max(replicas, 1), sorted.count)
        self.members = sorted
        self.replicas = replicas
        self.partitionCount = partitionCount
        self.lists = (0..<partitionCount).map { partition in
            var list: [NodeID] = []
            var step = 0
            while list.count < replicas, step < partitionCount {
                let node = sorted[(partition + step) % partitionCount % sorted.count]
                if !list.contains(node) { list.append(node) }
                step += 1
            }
            return list
        }
    }

    /// The partition `key` hashes to.
    public func partition(of key: [UInt8]) -> Int {
        Int(FNV1a.hash(key) & UInt64(partitionCount - 1))
    }

    /// The node that owns `partition`.
    public func owner(of partition: Int) -> NodeID {
        members[partition % members.count]
    }

    /// The N nodes that hold `partition`'s keys, first the owner, then clockwise.
    public func preferenceList(ofPartition partition: Int) -> [NodeID] {
        lists[partition]
    }

    /// The nodes after `partition`'s preference list, in ring order: where a sloppy quorum
    /// sends copies for home replicas that do not answer.
    public func fallbacks(ofPartition partition: Int) -> [NodeID] {
        let home = preferenceList(ofPartition: partition)
        var list: [NodeID] = []
        var step = 0
        while step < partitionCount, list.count + home.count < members.count {
            let node = owner(of: (partition + step) % partitionCount)
            if !home.contains(node) && !list.contains(node) { list.append(node) }
            step += 1
        }
        return list
    }

    /// The N nodes that hold `key`.
    public func preferenceList(of key: [UInt8]) -> [NodeID] {
        preferenceList(ofPartition: partition(of: key))
    }

    /// The partitions `node` holds a replica of.
    public func partitions(heldBy node: NodeID) -> [Int] {
        (0..<partitionCount).filter { preferenceList(ofPartition: $0).contains(node) }
    }
}
