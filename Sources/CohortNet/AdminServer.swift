import CohortNode
import CohortReplication
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The HTTP admin API (DESIGN.md §1): `GET /status` (JSON: role, term, indexes, lag, last
/// election), `GET /rollback` (JSON: the rollback log), `GET /metrics` (Prometheus text).
/// Read-only; binds the same address as the client port. `/status` also carries, under
/// `keyspaces`, the same fields for every other keyspace group on this node.
public final class AdminServer: Sendable {
    private let executor: CommandExecutor
    private let cluster: ClusterNode?
    private let group: MultiThreadedEventLoopGroup
    private let logger: Logger

    /// Creates the server; nothing listens until ``start(host:port:)``.
    public init(executor: CommandExecutor, cluster: ClusterNode? = nil, logger: Logger) {
        self.executor = executor
        self.cluster = cluster
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.logger = logger
    }

    /// Binds and returns the port bound. Blocks until bound.
    public func start(host: String, port: Int) throws -> Int {
        let executor = self.executor
        let cluster = self.cluster
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        AdminHandler(executor: executor, cluster: cluster))
                }
            }
            .bind(host: host, port: port).wait()
        return channel.localAddress?.port ?? port
    }

    /// Stops listening. Blocks.
    public func shutdown() {
        try? group.syncShutdownGracefully()
    }

    /// `GET /status` as JSON.
    static func statusJSON(
        _ executor: CommandExecutor, cluster: ClusterNode? = nil, nowMillis: UInt64
    ) -> String {
        func object(_ fields: [(String, String)]) -> String {
            "{" + fields.map { "\"\(escape($0.0))\":\"\(escape($0.1))\"" }.joined(separator: ",")
                + "}"
        }
        var members = executor.replicationFields(nowMillis: nowMillis).map {
            "\"\(escape($0.0))\":\"\(escape($0.1))\""
        }
        if let cluster {
            let keyspaces = cluster.keyspaceGroups.map { group in
                "\"\(escape(group.keyspace))\":"
                    + object(group.executor.replicationFields(nowMillis: nowMillis))
            }
            members.append("\"keyspaces\":{" + keyspaces.joined(separator: ",") + "}")
        }
        return "{" + members.joined(separator: ",") + "}\n"
    }

    /// `GET /rollback` as JSON.
    static func rollbackJSON(_ executor: CommandExecutor) -> String {
        let lines = executor.replication.current?.rollbackLines(limit: 10_000) ?? []
        return "[" + lines.map { "\"\(escape($0))\"" }.joined(separator: ",") + "]\n"
    }

    /// `GET /metrics` in Prometheus's text exposition format.
    /// Every replication metric carries a `keyspace` label: the default keyspace's group and
    /// each keyspace group on this node (`cluster`) are one sample each.
    static func metricsText(
        _ executor: CommandExecutor, cluster: ClusterNode? = nil, nowMillis: UInt64
    ) -> String {
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, String)]) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { text += "\(name)\(labels) \(value)\n" }
        }
        let statistics = executor.statistics
        metric(
            "cohort_commands_processed_total", "counter", "Commands run by this node.",
            [("", "\(statistics.commandsProcessed.value)")])
        metric(
            "cohort_connected_clients", "gauge", "Client connections open.",
            [("", "\(statistics.connectedClients.value)")])
        var groups: [(keyspace: String, executor: CommandExecutor)] = [("default", executor)]
        for group in cluster?.keyspaceGroups ?? [] {
            groups.append((group.keyspace, group.executor))
        }
        metric(
            "cohort_keys", "gauge", "Live keys in the storage engine, per keyspace.",
            groups.map {
                ("{keyspace=\"\(escape($0.keyspace))\"}", "\($0.executor.engine.keyCount)")
            })
        let fields = groups.map { group in
            (
                label: "keyspace=\"\(escape(group.keyspace))\"",
                values: Dictionary(
                    group.executor.replicationFields(nowMillis: nowMillis),
                    uniquingKeysWith: { $1 }),
                driver: group.executor.replication.current.flatMap { $0 as? ReplicationDriver }
            )
        }.filter { $0.values["cohort_node"] != nil }
        guard !fields.isEmpty else { return text }
        let roles = ["leader", "follower", "candidate"]
        metric(
            "cohort_raft_role", "gauge", "1 for this node's Raft role.",
            fields.flatMap { group in
                roles.map {
                    ("{\(group.label),role=\"\($0)\"}", group.values["role"] == $0 ? "1" : "0")
                }
            })
        for (field, name, help) in [
            ("cohort_term", "cohort_raft_term", "The current Raft term."),
            (
                "cohort_commit_index", "cohort_raft_commit_index",
                "Highest log index known committed."
            ),
            (
                "cohort_applied_index", "cohort_raft_applied_index",
                "Highest log index applied here."
            ),
            ("cohort_last_index", "cohort_raft_last_index", "Last index in this node's log."),
            (
                "cohort_snapshot_index", "cohort_raft_snapshot_index",
                "Index of the latest snapshot."
            ),
            ("cohort_rollback_entries", "cohort_rollback_entries", "Writes in the rollback log."),
            (
                "cohort_lag_entries", "cohort_follower_lag_entries",
                "Committed entries not yet applied here."
            ),
            (
                "cohort_lag_ms", "cohort_follower_lag_milliseconds",
                "Time since this node last caught up."
            ),
        ] {
            let samples = fields.compactMap { group in
                group.values[field].flatMap(Double.init).map { ("{\(group.label)}", "\($0)") }
            }
            if !samples.isEmpty { metric(name, "gauge", help, samples) }
        }
        // On a group's leader, one sample per follower.
        let followers = fields.flatMap { group in
            (group.driver?.followerStatuses ?? []).map { (group.label, $0) }
        }
        if !followers.isEmpty {
            func label(_ group: String, _ follower: FollowerStatus) -> String {
                "{\(group),follower=\"\(escape(follower.name))\"}"
            }
            metric(
                "cohort_replication_lag_entries", "gauge",
                "Entries the leader has that a follower does not.",
                followers.map { (label($0.0, $0.1), "\($0.1.lagEntries)") })
            metric(
                "cohort_replication_lag_milliseconds", "gauge",
                "Time since a follower last held everything committed.",
                followers.compactMap { group, follower in
                    follower.lagMillis.map { (label(group, follower), "\($0)") }
                })
        }
        return text
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text.unicodeScalars {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if character.value < 0x20 {
                    out += "\\u" + String(character.value, radix: 16).leftPadded(4)
                } else {
                    out.unicodeScalars.append(character)
                }
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// One HTTP connection of the admin API.
final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let executor: CommandExecutor
    private let cluster: ClusterNode?
    private var path = ""
    private var method = HTTPMethod.GET

    init(executor: CommandExecutor, cluster: ClusterNode?) {
        self.executor = executor
        self.cluster = cluster
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
            method = head.method
        case .body:
            break
        case .end:
            respond(context: context)
        }
    }

    private func respond(context: ChannelHandlerContext) {
        let now = WallClock.nowMillis()
        let (status, type, body): (HTTPResponseStatus, String, String)
        switch (method, path) {
        case (.GET, "/status"):
            (status, type, body) = (
                .ok, "application/json",
                AdminServer.statusJSON(executor, cluster: cluster, nowMillis: now)
            )
        case (.GET, "/rollback"):
            (status, type, body) = (.ok, "application/json", AdminServer.rollbackJSON(executor))
        case (.GET, "/metrics"):
            (status, type, body) = (
                .ok, "text/plain; version=0.0.4",
                AdminServer.metricsText(executor, cluster: cluster, nowMillis: now)
            )
        case (.GET, _):
            (status, type, body) = (.notFound, "text/plain", "try /status, /metrics or /rollback\n")
        default:
            (status, type, body) = (.methodNotAllowed, "text/plain", "read-only API\n")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: type)
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        context.write(
            wrapOutboundOut(
                .head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
            promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
