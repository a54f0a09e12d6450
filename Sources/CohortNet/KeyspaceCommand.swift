import CohortNode

/// The client commands a clustered connection runs itself, because they choose among the
/// node's keyspaces rather than act on one engine:
///
///     COHORT USE <keyspace>            later commands address this keyspace
///     COHORT KEYSPACE LIST             every keyspace the cluster has, and whether it is here
///     COHORT KEYSPACE CREATE | ADD | REMOVE …  see `ReplicationDriver+Keyspaces`
enum KeyspaceCommand: Equatable {
    case use(String)
    case list
    /// CREATE, ADD or REMOVE: decided by the default keyspace's leader.
    case create
    /// A COHORT USE or KEYSPACE with the wrong shape: the reply.
    case usage(String)

    /// Nil when `arguments` is not one of these commands.
    init?(_ arguments: [[UInt8]]) {
        // Asked of every command on a clustered connection: decide without allocating.
        guard arguments.count >= 2, CommandExecutor.isNamed(arguments[0], "COHORT") else {
            return nil
        }
        switch String(decoding: CommandExecutor.upperCased(arguments[1]), as: UTF8.self) {
        case "USE":
            guard arguments.count == 3 else {
                self = .usage("ERR wrong number of arguments for 'cohort|use' command")
                return
            }
            self = .use(String(decoding: arguments[2], as: UTF8.self))
        case "KEYSPACE":
            let verb =
                arguments.count >= 3
                ? String(decoding: CommandExecutor.upperCased(arguments[2]), as: UTF8.self) : ""
            switch (verb, arguments.count) {
            case ("LIST", 3): self = .list
            case ("CREATE", 4...), ("ADD", 5...), ("REMOVE", 5...): self = .create
            default:
                self = .usage(
                    "ERR usage: COHORT KEYSPACE LIST | CREATE <name> ... | ADD <name> <node> [role] | REMOVE <name> <node>"
                )
            }
        default:
            return nil
        }
    }
}
