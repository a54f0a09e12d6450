import CohortCore

/// What the replicas of a leaderless keyspace say to each other. Requests carry the sender's
/// ``RequestID``; answers name it back, so a coordinator matches them to what it waits for.
public enum LeaderlessMessage: Hashable, Sendable {
    /// Coordinator to replica: merge `state` into your state of `key`, make it durable, then
    /// answer ``replicated(request:)``.
    case replicate(request: RequestID, key: [UInt8], state: SiblingSet)
    /// Replica to coordinator: the state of `request` is merged and durable here.
    case replicated(request: RequestID)
    /// Coordinator to a fallback node (sloppy quorum): keep `state` of `key` durably as a hint
    /// for `home`, which did not answer, then answer ``replicated(request:)``.
    case replicateHint(request: RequestID, key: [UInt8], state: SiblingSet, home: NodeID)
    /// Fallback to home replica: merge the hinted `state` of `key`, make it durable, then
    /// answer ``handedOff(key:digest:)``.
    case handoff(key: [UInt8], state: SiblingSet)
    /// Home replica to fallback: the hint of `key` whose state had `digest` is durable here.
    case handedOff(key: [UInt8], digest: UInt64)
    /// Coordinator to replica: answer your state of `key`.
    case read(request: RequestID, key: [UInt8])
    /// Replica to coordinator: its state of the key `request` asked for (empty: never written).
    case readReply(request: RequestID, state: SiblingSet)
    /// Read repair or anti-entropy: merge `state` into your state of `key`; no answer.
    case repair(key: [UInt8], state: SiblingSet)
    /// A node outside the key's preference list to a replica: coordinate this client write
    /// (a nil value deletes) with write quorum `quorum` (0: the keyspace's W), then answer
    /// ``forwardedWriteDone(request:result:)``.
    case forwardWrite(
        request: RequestID, key: [UInt8], value: [UInt8]?, context: VersionVector, quorum: UInt8)
    /// The coordinator's answer to a forwarded write.
    case forwardedWriteDone(request: RequestID, result: LeaderlessWriteResult)
    /// Anti-entropy, first step: the roots of the sender's Merkle trees of the partitions it
    /// shares with the receiver.
    case treeRoots(partitions: [UInt32], roots: [UInt64])
    /// Anti-entropy: the partitions whose roots differed, before the messages about each (the
    /// initiator waits for all of them before its next exchange).
    case treeDiffering(partitions: [UInt32])
    /// Anti-entropy: the sender's interior hashes of a partition whose roots differed.
    case treeInterior(partition: UInt32, hashes: [UInt64])
    /// Anti-entropy: the sender's leaf hashes under the interior nodes that differed
    /// (``MerkleTree/fanOut`` per node, in the order of `interior`).
    case treeLeaves(partition: UInt32, interior: [UInt16], hashes: [UInt64])
    /// Anti-entropy: the digest of every key the sender holds in the leaves that differed.
    case digests(partition: UInt32, leaves: [UInt16], entries: [KeyDigest])
    /// Tombstone collection: the keys whose state here is only tombstones, with their digests;
    /// the receiver answers ``tombstonesHeld(entries:)`` with those it holds identically.
    case tombstoneQuery(entries: [KeyDigest])
    /// The queried tombstones the sender holds durably with the same digest.
    case tombstonesHeld(entries: [KeyDigest])
    /// Anti-entropy, answer: the states the receiver should merge, and the keys whose states
    /// the sender wants back (empty in the last step).
    case exchange(partition: UInt32, states: [KeyState], wanted: [[UInt8]])
}

/// A key, a digest of its state and the state's clock (anti-entropy): the clock tells the
/// receiver which way the state must go (only to the side whose clock is behind, both ways
/// when the two are concurrent).
public struct KeyDigest: Hashable, Sendable {
    public var key: [UInt8]
    public var digest: UInt64
    public var clock: VersionVector

    public init(key: [UInt8], digest: UInt64, clock: VersionVector) {
        self.key = key
        self.digest = digest
        self.clock = clock
    }
}

/// A key and its state (anti-entropy).
public struct KeyState: Hashable, Sendable {
    public var key: [UInt8]
    public var state: SiblingSet

    public init(key: [UInt8], state: SiblingSet) {
        self.key = key
        self.state = state
    }
}

/// How a leaderless client write ended.
public enum LeaderlessWriteResult: Hashable, Sendable {
    /// W replicas hold it durably: its dot, and the context the writer now has (the new
    /// state's clock, so a next write from this client supersedes this one).
    case written(dot: Dot, context: VersionVector)
    /// Not acknowledged, with the reason (it may still be present on some replicas).
    case failed(String)
}

extension LeaderlessMessage {
    /// Whether the message is part of an anti-entropy exchange (for byte counts).
    public var isAntiEntropy: Bool {
        switch self {
        case .treeRoots, .treeDiffering, .treeInterior, .treeLeaves, .digests, .exchange: true
        default: false
        }
    }
}
