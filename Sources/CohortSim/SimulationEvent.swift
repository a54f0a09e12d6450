import CohortCore
import CohortNode

/// What crosses the simulated network between nodes: encoded bytes, as on the wire.
enum PeerFrame: Sendable {
    /// An encoded Raft message (`RaftMessageCodec`) of a group.
    case raft(GroupID, [UInt8])
    /// An encoded forwarding or proxy frame (`ForwardMessage`) of a group.
    case forward(GroupID, [UInt8])
}

/// What a node's host tells its ``NodeShell`` later than the moment it happened, so that the
/// shell is never re-entered from inside a group's actions.
enum ShellInput: Sendable {
    /// A keyspace group has left its group (`LeaderGroupRuntime.onLeftGroup`).
    case groupLeft(GroupID)
    /// The host finished closing a group (after a delay, as a real close takes).
    case groupClosed(GroupID)
}

/// What the scheduler runs. Node events carry the node's incarnation so that timers and
/// background work of a crashed incarnation do nothing after a restart.
enum SimulationEvent: Sendable {
    /// A node's clock ticks.
    case tick(node: Int, incarnation: Int)
    /// A peer frame arrives at its receiver.
    case frame(from: NodeID, to: NodeID, PeerFrame)
    /// Work a node handed off its thread (a log fsync, a snapshot) is done.
    case offload(node: Int, incarnation: Int, job: UInt64)
    /// A client's RESP request arrives at a node.
    case clientRequest(node: Int, client: Int, sequence: UInt64, [UInt8])
    /// A node's RESP reply arrives at a client; `token` is the session's new token.
    case clientReply(client: Int, sequence: UInt64, [UInt8], token: UInt64)
    /// A client gives up on its request.
    case clientTimeout(client: Int, sequence: UInt64)
    /// A client sends its next request.
    case clientIssue(client: Int)
    /// The nemesis injects a fault.
    case nemesis
    /// A partition ends.
    case healPartition(generation: Int)
    /// A crashed node restarts.
    case restart(node: Int)
    /// Nodes crash now (a crash point fired); each restarts within `downMicrosMax`.
    case crashNow(nodes: [Int], downMicrosMax: UInt64)
    /// The operator adds a spare node to the cluster.
    case operatorAction
    /// The operator creates the workload's keyspace (again until it is created).
    case createKeyspace
    /// The operator removes a voter from the keyspace, or adds it back.
    case keyspaceMove
    /// Node `node`'s shell learns something its host did.
    case shellInput(node: Int, incarnation: Int, ShellInput)
    /// Faults stop: the liveness phase begins.
    case startLiveness
    /// The liveness bound passes.
    case livenessDeadline
    /// Clients stop and the cluster settles before the final checks.
    case stopClients
    /// The run ends.
    case end

    /// A number per case, folded into the trace hash.
    var code: Int {
        switch self {
        case .tick: return 1
        case .frame: return 2
        case .offload: return 3
        case .clientRequest: return 4
        case .clientReply: return 5
        case .clientTimeout: return 6
        case .clientIssue: return 7
        case .nemesis: return 8
        case .healPartition: return 9
        case .restart: return 10
        case .operatorAction: return 11
        case .startLiveness: return 12
        case .livenessDeadline: return 13
        case .stopClients: return 14
        case .end: return 15
        case .crashNow: return 17
        case .createKeyspace: return 18
        case .shellInput: return 19
        case .keyspaceMove: return 20
        }
    }
}
