import CohortCore
import CohortNode
import CohortRaft

/// A keyspace's group on a simulated node: the real runtime and command layer over the
/// keyspace's own engine and Raft log (on the node's simulated disk), as `ClusterNode` opens
/// them in production, and what the checks remember of it between events.
final class SimKeyspaceGroup {
    let name: String
    let runtime: LeaderGroupRuntime
    let executor: CommandExecutor
    /// What the checks saw after the previous event.
    var committedScanned = LogIndex.zero
    var eventsHandled = 0
    /// The term this node last led the group in (for the trace).
    var ledTerm: Term?

    init(name: String, runtime: LeaderGroupRuntime, executor: CommandExecutor) {
        self.name = name
        self.runtime = runtime
        self.executor = executor
    }
}
