import CohortCore
import CohortRaft

/// What the scheduler runs. Node events carry the node's incarnation so that timers and fsyncs
/// of a crashed incarnation do nothing after a restart.
enum SimulationEvent: Sendable {
    /// A node's clock ticks.
    case tick(node: Int, incarnation: Int)
    /// A Raft message arrives at its receiver.
    case raftMessage(RaftMessage)
    /// A simulated fsync completes.
    case fsyncCompleted(node: Int, incarnation: Int, token: SimDisk<RaftDiskImage>.SyncToken)
    /// A client request arrives at a node.
    case clientRequest(node: Int, ClientRequest)
    /// A node's answer arrives at a client.
    case clientReply(client: Int, sequence: UInt64, ClientReply)
    /// A client gives up on its request.
    case clientTimeout(client: Int, sequence: UInt64)
    /// A client sends its next request.
    case clientIssue(client: Int)
    /// A client re-sends its request after a back-off.
    case clientResend(client: Int, sequence: UInt64)
    /// The nemesis injects a fault.
    case nemesis
    /// A partition ends.
    case healPartition(generation: Int)
    /// A crashed node restarts.
    case restart(node: Int)
    /// Nodes crash now (a crash point fired); each restarts within `downMicrosMax`.
    case crashNow(nodes: [Int], downMicrosMax: UInt64)
    /// The operator changes membership or transfers leadership.
    case operatorAction
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
        case .raftMessage: return 2
        case .fsyncCompleted: return 3
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
        case .clientResend: return 16
        case .crashNow: return 17
        }
    }
}
