import ArgumentParser
import CohortNet
import CohortNode
import CohortStorage
import Dispatch
import Foundation
import Logging

/// `cohort server`: runs one node. Options come from flags, then `COHORT_*` environment
/// variables, then a config file, then defaults, in that order of precedence.
struct ServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run one Cohort node serving Redis clients.",
        discussion: """
            Every option can also be given in a config file (`key = value`, same names as the \
            long flags) or as an environment variable: COHORT_ plus the flag name upper-cased \
            with dashes as underscores (COHORT_DATA_DIR, COHORT_FSYNC, ...).
            """
    )

    @Option(name: .long, help: "Config file of `key = value` lines (env: COHORT_CONFIG).")
    var config: String?
    @Option(name: .long, help: "Address to bind (default 127.0.0.1).") var bind: String?
    @Option(name: .long, help: "Client port (default 7379; 0 picks a free port).") var port: Int?
    @Option(name: .customLong("data-dir"), help: "Data directory (default ./cohort-data).")
    var dataDir: String?
    @Option(name: .long, help: "Durability: batch (group commit, default), everysec or none.")
    var fsync: String?
    @Option(name: .long, help: "Password clients must AUTH with.") var password: String?
    @Option(name: .customLong("max-clients"), help: "Most concurrent clients (default 10000).")
    var maxClients: Int?
    @Option(name: .customLong("log-level"), help: "trace, debug, info (default), warning, error.")
    var logLevel: String?
    @Option(name: .customLong("pid-file"), help: "Write the process id here once listening.")
    var pidFile: String?
    @Option(
        name: .long,
        help: "Event-loop threads (default: half the cores; clustered: the raft loop's one).")
    var threads: Int?
    @Option(
        name: .customLong("value-cache-bytes-max"),
        help: "Memory for hot values (default 32 MiB; 0 reads every value from disk).")
    var valueCacheBytesMax: Int?
    @Option(name: .long, help: "This node's name in a cluster (default n1).") var id: String?
    @Option(name: .customLong("peer-port"), help: "Port for other nodes (cluster mode).")
    var peerPort: Int?
    @Option(
        name: .customLong("peer-bind"),
        help: "Address the peer port binds (default 127.0.0.1; elsewhere needs --cluster-secret).")
    var peerBind: String?
    @Option(
        name: .long,
        help: "Founding members, this node included: name=host:port,... (dialled exactly as given)."
    )
    var peers: String?
    @Flag(name: .long, help: "Start empty and wait to be added to a running cluster.")
    var join = false
    @Option(name: .customLong("cluster-secret"), help: "Secret shared by the cluster's nodes.")
    var clusterSecret: String?
    @Option(name: .customLong("tick-ms"), help: "Raft tick (default 50 ms; elections 10-20 ticks).")
    var tickMillis: Int?
    @Option(name: .long, help: "Default write acknowledgement: all, majority (default), leader.")
    var ack: String?
    @Option(name: .customLong("snapshot-entries"), help: "Log entries between snapshots.")
    var snapshotEntries: Int?

    @Option(
        name: .customLong("write-timeout-ms"),
        help: "How long a write waits for its acknowledgement before answering UNCERTAIN.")
    var writeTimeoutMillis: Int?

    @Option(
        name: .customLong("read-timeout-ms"),
        help: "How long a read waits for its consistency (a read index, a token) before failing.")
    var readTimeoutMillis: Int?
    @Option(
        name: .customLong("admin-port"),
        help: "HTTP admin API port (/status, /metrics, /rollback); off unless given.")
    var adminPort: Int?

    func resolvedConfiguration() throws -> ServerConfiguration {
        let environment = ProcessInfo.processInfo.environment
        var configuration = ServerConfiguration()
        if let path = config ?? environment["COHORT_CONFIG"] {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ValidationError(
                    "cannot read config file \(path): \(error.localizedDescription)")
            }
            try configuration.apply(file: ConfigurationFile(parsing: text))
        }
        try configuration.apply(environment: environment)
        let flags: [(String, String?)] = [
            ("bind", bind), ("port", port.map(String.init)), ("data-dir", dataDir),
            ("fsync", fsync), ("password", password), ("max-clients", maxClients.map(String.init)),
            ("log-level", logLevel), ("pid-file", pidFile), ("threads", threads.map(String.init)),
            ("value-cache-bytes-max", valueCacheBytesMax.map(String.init)), ("id", id),
            ("peer-port", peerPort.map(String.init)), ("peer-bind", peerBind),
            ("peers", peers),
            ("join", join ? "true" : nil), ("cluster-secret", clusterSecret),
            ("tick-ms", tickMillis.map(String.init)), ("ack", ack),
            ("snapshot-entries", snapshotEntries.map(String.init)),
            ("write-timeout-ms", writeTimeoutMillis.map(String.init)),
            ("read-timeout-ms", readTimeoutMillis.map(String.init)),
            ("admin-port", adminPort.map(String.init)),
        ]
        for case let (name, value?) in flags {
            try configuration.set(name, to: value)
        }
        return configuration
    }

    func run() throws {
        let configuration: ServerConfiguration
        do {
            configuration = try resolvedConfiguration()
            try configuration.validate()
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "cohort.server")
        try ServerRunner(configuration: configuration, logger: logger).run()
    }
}

/// Opens the engine, serves until SIGTERM or SIGINT, then shuts down in order: stop accepting,
/// drain connections, fsync and close the engines.
struct ServerRunner {
    let configuration: ServerConfiguration
    let logger: Logger

    /// Opens the engine in `configuration.dataDirectory` (reporting what recovery found) and
    /// an executor over it. Clustered nodes call it again for each keyspace they hold.
    static func openExecutor(
        configuration: ServerConfiguration, statistics: ServerStatistics, logger: Logger
    ) throws -> CommandExecutor {
        let started = WallClock.monotonicNanos()
        var options = StorageOptions()
        options.fsync = configuration.engineFsync
        // A standalone server writes each turn's commits with one write before its replies
        // (see `StorageOptions.defersAppendWrites`); a clustered node's engines are written by
        // its replication loops.
        options.defersAppendWrites =
            !configuration.isClustered && configuration.engineFsync != .batch
        options.keyBytesMax = configuration.keyBytesMax
        options.valueBytesMax = configuration.bulkBytesMax
        options.valueCacheBytesMax = configuration.valueCacheBytesMax
        let engine: StorageEngine
        do {
            engine = try StorageEngine.open(
                directory: configuration.dataDirectory, options: options,
                nowMillis: WallClock.nowMillis())
        } catch {
            logger.critical(
                "cannot open data directory",
                metadata: ["dir": "\(configuration.dataDirectory)", "error": "\(error)"])
            throw error
        }
        let recovery = engine.recovery
        let openedMillis = (WallClock.monotonicNanos() - started) / 1_000_000
        logger.info(
            "storage recovered",
            metadata: [
                "dir": "\(configuration.dataDirectory)", "keys": "\(engine.keyCount)",
                "records": "\(recovery.recordsLoaded)", "hints": "\(recovery.hintFilesUsed)",
                "millis": "\(openedMillis)",
                "fsync": "\(configuration.engineFsync.rawValue)",
            ])
        if let torn = recovery.tornTail {
            logger.warning(
                "cut a torn tail left by a crash",
                metadata: [
                    "file": "\(torn.file)", "offset": "\(torn.offset)",
                    "bytes": "\(torn.bytesDropped)", "reason": "\(torn.reason)",
                ])
        }
        for corruption in recovery.corruptions {
            logger.error("corrupt record skipped, never served", metadata: ["at": "\(corruption)"])
        }
        engine.startBackgroundWork()
        return CommandExecutor(
            engine: engine, configuration: configuration, statistics: statistics,
            startedAtMillis: WallClock.nowMillis(),
            processFacts: [
                ("process_id", "\(ProcessInfo.processInfo.processIdentifier)"),
                ("executable", CommandLine.arguments.first ?? "cohort"),
            ])
    }

    func run() throws {
        let statistics = ServerStatistics()
        let logger = self.logger
        let executor: CommandExecutor
        do {
            executor = try Self.openExecutor(
                configuration: configuration, statistics: statistics, logger: logger)
        } catch {
            throw ExitCode(2)
        }
        let engine = executor.engine
        var cluster: ClusterNode?
        var peerPort = 0
        if configuration.isClustered {
            do {
                let node = try ClusterNode(
                    configuration: configuration, executor: executor, logger: logger,
                    makeExecutor: { keyspaceConfiguration in
                        try Self.openExecutor(
                            configuration: keyspaceConfiguration, statistics: statistics,
                            logger: logger)
                    })
                peerPort = try node.start()
                cluster = node
            } catch {
                logger.critical("cannot start replication", metadata: ["error": "\(error)"])
                try? engine.close()
                throw ExitCode(2)
            }
        }
        let server = RESPServer(executor: executor, cluster: cluster, logger: logger)
        let port: Int
        do {
            port = try server.start()
        } catch {
            logger.critical(
                "cannot listen",
                metadata: [
                    "address": "\(configuration.bindAddress):\(configuration.port)",
                    "error": "\(error)",
                ])
            cluster?.shutdown()
            try? engine.close()
            throw ExitCode(2)
        }
        var admin: AdminServer?
        if let adminPort = configuration.adminPort {
            let server = AdminServer(executor: executor, cluster: cluster, logger: logger)
            do {
                let bound = try server.start(host: configuration.bindAddress, port: adminPort)
                logger.info("admin API listening", metadata: ["port": "\(bound)"])
                admin = server
            } catch {
                // The admin API is an operator's window, not the node's job: serve without it.
                logger.error(
                    "cannot start the admin API; running without it",
                    metadata: ["port": "\(adminPort)", "error": "\(error)"])
                server.shutdown()
            }
        }
        if let pidFile = configuration.pidFile {
            try? "\(ProcessInfo.processInfo.processIdentifier)\n".write(
                toFile: pidFile, atomically: true, encoding: .utf8)
        }
        logger.info(
            "ready to accept connections",
            metadata: [
                "address": "\(configuration.bindAddress)", "port": "\(port)",
                "peer_port": "\(peerPort)", "node": "\(configuration.nodeName)",
            ])

        let stop = StopSignal()
        stop.wait()
        logger.info("shutting down: draining clients")
        server.shutdown()
        admin?.shutdown()
        cluster?.shutdown()
        do {
            try engine.close()
        } catch {
            logger.error("closing storage failed", metadata: ["error": "\(error)"])
        }
        if let pidFile = configuration.pidFile {
            try? FileManager.default.removeItem(atPath: pidFile)
        }
        logger.info("stopped")
        // Everything is durable and closed. Exit here, as Redis does, rather than return and
        // release the engine, whose index of a million keys took seconds to free object by
        // object.
        exit(EXIT_SUCCESS)
    }
}
