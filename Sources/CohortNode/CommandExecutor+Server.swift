import CohortCore
import CohortStorage

/// Server commands: INFO, COMMAND, CONFIG.
extension CommandExecutor {
    static let serverCommands: [CommandSpec] = [
        CommandSpec("info", arity: -1, flags: ["loading", "stale"]) { e, c in
            let sections = c.arguments.dropFirst().map {
                String(decoding: $0, as: UTF8.self).lowercased()
            }
            let text = e.info(sections: sections, nowMillis: c.nowMillis)
            if c.session.protocolVersion == .resp3 {
                return CommandOutcome(.verbatim(format: "txt", text: text))
            }
            return CommandOutcome(.bulkString(Array(text.utf8)))
        },
        CommandSpec("command", arity: -1, flags: ["loading", "stale"]) { e, c in
            try e.command(&c)
        },
        CommandSpec("config", arity: -2, flags: ["admin", "loading", "stale"]) { e, c in
            try e.config(&c)
        },
        // A standalone node has no replicas to wait for; a clustered node's driver answers
        // WAIT itself (see the network shell).
        CommandSpec("wait", arity: 3, flags: ["noscript"]) { _, c in
            guard try c.integer(1) >= 0, try c.integer(2) >= 0 else {
                throw CommandError("ERR timeout is negative")
            }
            return CommandOutcome(.integer(0))
        },
    ]

    /// INFO's sections in the order Redis prints them.
    static let infoSections = [
        "server", "clients", "persistence", "stats", "replication", "keyspace",
    ]

    func info(sections requested: [String], nowMillis: UInt64) -> String {
        var wanted = Set(requested)
        if requested.isEmpty || wanted.contains("all") || wanted.contains("default")
            || wanted.contains("everything")
        {
            wanted = Set(CommandExecutor.infoSections)
        }
        var text = ""
        for section in CommandExecutor.infoSections where wanted.contains(section) {
            if !text.isEmpty { text += "\r\n" }
            text += "# \(section.prefix(1).uppercased() + section.dropFirst())\r\n"
            for (key, value) in infoFields(section, nowMillis: nowMillis) {
                text += "\(key):\(value)\r\n"
            }
        }
        return text
    }

    func infoFields(_ section: String, nowMillis: UInt64) -> [(String, String)] {
        switch section {
        case "server":
            let uptimeSeconds = (nowMillis &- startedAtMillis) / 1_000
            return [
                ("redis_version", CommandExecutor.compatibleRedisVersion),
                ("cohort_version", CommandExecutor.cohortVersion),
                ("redis_mode", "standalone"),
                ("arch_bits", "64"),
                ("tcp_port", "\(configuration.port)"),
                ("uptime_in_seconds", "\(uptimeSeconds)"),
                ("uptime_in_days", "\(uptimeSeconds / 86_400)"),
            ] + processFacts
        case "clients":
            return [
                ("connected_clients", "\(statistics.value(\.connectedClients))"),
                ("maxclients", "\(configuration.clientsMax)"),
                ("blocked_clients", "\(statistics.value(\.blockedClients))"),
            ]
        case "persistence":
            return persistenceFields()
        case "stats":
            return [
                ("total_connections_received", "\(statistics.value(\.connectionsReceived))"),
                ("total_commands_processed", "\(statistics.value(\.commandsProcessed))"),
                ("total_net_input_bytes", "\(statistics.value(\.bytesRead))"),
                ("total_net_output_bytes", "\(statistics.value(\.bytesWritten))"),
                ("rejected_connections", "\(statistics.value(\.connectionsRejected))"),
                ("keyspace_hits", "\(statistics.value(\.keyspaceHits))"),
                ("keyspace_misses", "\(statistics.value(\.keyspaceMisses))"),
                ("protocol_errors", "\(statistics.value(\.protocolErrors))"),
                (
                    "client_output_limit_disconnections",
                    "\(statistics.value(\.outputLimitDisconnects))"
                ),
            ]
        case "replication":
            return replicationFields(nowMillis: nowMillis)
        case "keyspace":
            let keys = engine.keyCount
            return keys == 0 ? [] : [("db0", "keys=\(keys),expires=0,avg_ttl=0")]
        default:
            return []
        }
    }

    /// Redis's name for an fsync policy, as `CONFIG GET appendfsync` reports it.
    var appendfsyncName: String {
        switch configuration.engineFsync {
        case .batch: return "always"
        case .everysec: return "everysec"
        case .none: return "no"
        }
    }

    func command(_ c: inout CommandContext) throws -> CommandOutcome {
        func describe(_ spec: CommandSpec) -> RESPValue {
            .array([
                .bulkString(Array(spec.name.utf8)), .integer(Int64(spec.arity)),
                .set(spec.flags.map { .simpleString($0) }), .integer(Int64(spec.firstKey)),
                .integer(Int64(spec.lastKey)), .integer(Int64(spec.keyStep)),
            ])
        }
        if c.arguments.count == 1 {
            return CommandOutcome(.array(allSpecs.map(describe)))
        }
        switch c.option(1) {
        case "COUNT": return CommandOutcome(.integer(Int64(allSpecs.count)))
        case "LIST":
            return CommandOutcome(.array(allSpecs.map { .bulkString(Array($0.name.utf8)) }))
        case "INFO":
            let names = c.arguments.dropFirst(2)
            let specs = names.isEmpty ? allSpecs.map(Optional.some) : names.map { spec(named: $0) }
            return CommandOutcome(.array(specs.map { $0.map(describe) ?? .nullArray }))
        case "DOCS":
            // Cohort ships no command documentation yet; an empty map is what redis-cli expects
            // when a server has none, and it then simply shows no hints.
            return CommandOutcome(.map([]))
        default:
            throw CommandError(
                "ERR unknown subcommand '\(String(decoding: c.arguments[1], as: UTF8.self))'. Try COMMAND HELP."
            )
        }
    }

    /// CONFIG GET answers the parameters clients such as redis-benchmark ask for. CONFIG SET
    /// is refused clearly: options change by restarting with new flags.
    func config(_ c: inout CommandContext) throws -> CommandOutcome {
        switch c.option(1) {
        case "GET":
            guard c.arguments.count >= 3 else { throw CommandError.wrongArity("config|get") }
            let parameters: [(String, String)] = [
                ("appendfsync", appendfsyncName),
                ("appendonly", "yes"),
                ("bind", configuration.bindAddress),
                ("client-query-buffer-limit", "\(configuration.bulkBytesMax)"),
                ("databases", "1"),
                ("dir", configuration.dataDirectory),
                ("maxclients", "\(configuration.clientsMax)"),
                ("maxmemory", "0"),
                ("port", "\(configuration.port)"),
                ("proto-max-bulk-len", "\(configuration.bulkBytesMax)"),
                ("save", ""),
                ("timeout", "0"),
            ]
            var reply: [(RESPValue, RESPValue)] = []
            var seen = Set<String>()
            for pattern in c.arguments.dropFirst(2) {
                let glob = GlobPattern(pattern.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 })
                for (name, value) in parameters where glob.matches(Array(name.utf8)) {
                    if seen.insert(name).inserted {
                        reply.append(
                            (.bulkString(Array(name.utf8)), .bulkString(Array(value.utf8))))
                    }
                }
            }
            return CommandOutcome(.map(reply))
        case "SET":
            throw CommandError("ERR CONFIG SET is not supported: restart the node with new options")
        case "RESETSTAT":
            return .ok
        default:
            throw CommandError(
                "ERR unknown subcommand '\(String(decoding: c.arguments[1], as: UTF8.self))'. Try CONFIG HELP."
            )
        }
    }
}
