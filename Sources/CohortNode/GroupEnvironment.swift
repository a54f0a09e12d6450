import CohortCore
import CohortRaft
import CohortReplication

/// What a ``LeaderGroupRuntime`` needs from the world it runs in: the network, somewhere to
/// run slow work, and the clocks. The NIO host implements it with sockets, threads and the
/// system's clocks; the simulator with its network, its event queue and simulated clocks
/// (DESIGN.md §2: the same node code in two environments behind one small interface).
public protocol GroupEnvironment: AnyObject, Sendable {
    /// Both clocks, read now.
    func now() -> GroupTime
    /// Sends Raft messages of group `group` (in order per peer; they may be lost).
    func send(_ messages: [RaftMessage], group: GroupID)
    /// Sends a forwarding frame of group `group` to `peer`.
    func forward(_ bytes: [UInt8], to peer: NodeID, group: GroupID)
    /// Dials a member learned from the log's member entry at `admittedAt`; a node that was
    /// removed and is added again may present a new data directory from then on.
    func addPeer(_ peer: NodeID, endpoint: PeerEndpoint, admittedAt: LogIndex)
    /// Runs `work` away from the group's thread (`kind` says what it is, for the environment's
    /// choice of thread or delay); the closure it returns then runs on the group's thread,
    /// after which the runtime is pumped.
    func offload(
        _ kind: OffloadKind, _ work: @escaping @Sendable () -> @Sendable () -> Void)
}

/// Work a runtime runs off its thread.
public enum OffloadKind: Sendable {
    /// An fsync of the Raft log (short, latency-critical).
    case logSync
    /// Encoding or writing a snapshot (long, background priority).
    case snapshot
}

/// Where a runtime records writes that a new leader discarded (DESIGN.md §3: an async write a
/// failover discards is not silently lost).
public protocol RollbackRecording: AnyObject, Sendable {
    /// Records one discarded entry durably; throws when it could not (the entry may still be
    /// listed in memory).
    func record(index: LogIndex, term: Term, entry: LogicalEntry, nowMillis: UInt64) throws
    /// Records held.
    var count: Int { get }
}
