import CohortCore
import CohortReplication

/// Cohort's own commands, under one prefix so they never collide with Redis's:
///
///     COHORT TOKEN                       the session's causal token (a log index)
///     COHORT SESSION <token>             adopt a token from another connection or node
///     COHORT CONSISTENCY [linearizable | session | any | stale <ms>]
///     COHORT ACK [all | majority | leader]
///     COHORT ROLLBACK [count]            writes a failover discarded on this node
///     COHORT STATUS                      the INFO replication fields
///     COHORT USE <keyspace>              (clustered nodes; see CohortNet's KeyspaceCommand)
///     COHORT KEYSPACE LIST | CREATE ...  (clustered nodes)
extension CommandExecutor {
    static let cohortCommands: [CommandSpec] = [
        CommandSpec("cohort", arity: -2, flags: ["fast"]) { e, c in try e.cohort(&c) }
    ]

    func cohort(_ c: inout CommandContext) throws -> CommandOutcome {
        let arguments = c.arguments
        switch c.option(1) {
        case "TOKEN":
            guard arguments.count == 2 else { throw CommandError.wrongArity("cohort|token") }
            return CommandOutcome(.integer(Int64(clamping: c.session.token)))
        case "SESSION":
            guard arguments.count == 3 else { throw CommandError.wrongArity("cohort|session") }
            guard let token = UInt64(String(decoding: arguments[2], as: UTF8.self)) else {
                throw CommandError("ERR invalid token: expected a log index from COHORT TOKEN")
            }
            c.session.token = max(c.session.token, token)
            return .ok
        case "CONSISTENCY":
            if arguments.count == 2 {
                return CommandOutcome(.bulkString(Array(c.session.readConsistency.name.utf8)))
            }
            switch (c.option(2), arguments.count) {
            case ("LINEARIZABLE", 3): c.session.readConsistency = .linearizable
            case ("SESSION", 3): c.session.readConsistency = .session
            case ("ANY", 3): c.session.readConsistency = .any
            case ("STALE", 4):
                guard let millis = UInt64(String(decoding: arguments[3], as: UTF8.self)) else {
                    throw CommandError("ERR stale bound must be milliseconds")
                }
                c.session.readConsistency = .boundedStaleness(millis: millis)
            default:
                throw CommandError(
                    "ERR consistency must be linearizable, session, any or stale <ms>")
            }
            return .ok
        case "ACK":
            if arguments.count == 2 {
                let mode = c.session.ackMode ?? configuration.ackMode
                return CommandOutcome(.bulkString(Array(mode.rawValue.utf8)))
            }
            guard arguments.count == 3,
                let mode = AckMode(
                    rawValue: String(decoding: arguments[2], as: UTF8.self).lowercased())
            else { throw CommandError("ERR ack mode must be all, majority or leader") }
            c.session.ackMode = mode
            return .ok
        case "ROLLBACK":
            var limit = 100
            if arguments.count == 3 {
                limit = Int(try c.integer(2))
                guard limit > 0 else { throw CommandError("ERR count must be positive") }
            } else if arguments.count > 3 {
                throw CommandError.wrongArity("cohort|rollback")
            }
            let lines = replication.current?.rollbackLines(limit: limit) ?? []
            return CommandOutcome(.array(lines.map { .bulkString(Array($0.utf8)) }))
        case "NODE", "KEYSPACE":
            throw CommandError("ERR this node is not part of a cluster")
        case "USE":
            // A clustered connection handles USE itself; a standalone node has one keyspace.
            guard arguments.count == 3 else { throw CommandError.wrongArity("cohort|use") }
            guard String(decoding: arguments[2], as: UTF8.self) == KeyspaceDefinition.defaultName
            else { throw CommandError("ERR this node is not part of a cluster") }
            return .ok
        case "STATUS":
            let fields = replicationFields(nowMillis: c.nowMillis)
            let text = fields.map { "\($0.0):\($0.1)" }.joined(separator: "\r\n")
            return CommandOutcome(.bulkString(Array(text.utf8)))
        default:
            throw CommandError(
                "ERR unknown COHORT subcommand; try TOKEN, SESSION, CONSISTENCY, ACK, ROLLBACK, NODE, KEYSPACE, USE or STATUS"
            )
        }
    }

    /// INFO replication: the driver's view when clustered, a lone primary otherwise.
    public func replicationFields(nowMillis: UInt64) -> [(String, String)] {
        replication.current?.replicationFields(nowMillis: nowMillis)
            ?? [("role", "master"), ("connected_slaves", "0")]
    }
}
