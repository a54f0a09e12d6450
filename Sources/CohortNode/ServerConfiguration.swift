import CohortReplication
import CohortStorage

/// Everything one `cohort server` process needs, after flags, environment and config file have
/// been merged (flags win over the environment, which wins over the file, which wins over the
/// defaults below).
public struct ServerConfiguration: Sendable, Equatable {
    /// Address the client port binds to. Loopback by default: exposing a node is a choice.
    public var bindAddress = "127.0.0.1"
    /// Client (RESP) port. 7379 so that it does not collide with a local Redis on 6379.
    public var port = 7379
    /// Directory holding segment, hint and metadata files.
    public var dataDirectory = "cohort-data"
    /// When a write is acknowledged relative to fsync.
    public var fsync: FsyncPolicy = .batch
    /// The password AUTH must present; nil means no authentication.
    public var password: String?
    /// Connections beyond this are refused with an error.
    public var clientsMax = 10_000
    /// A client whose unsent replies exceed this is disconnected (Redis's client-output-buffer-limit).
    public var clientOutputBytesMax = 256 << 20
    /// Largest bulk string a request may carry (Redis's proto-max-bulk-len).
    public var bulkBytesMax = 512 << 20
    /// Largest number of arguments in one request.
    public var arrayCountMax = 1 << 20
    /// Largest inline (telnet-style) request line.
    public var inlineBytesMax = 64 << 10
    /// Largest key accepted.
    public var keyBytesMax = 1 << 20
    /// Log level name for swift-log: trace, debug, info, notice, warning, error, critical.
    public var logLevel = "info"
    /// Where to write the process id once listening, if anywhere.
    public var pidFile: String?
    /// Event-loop threads; 0 means half the cores (at least one), or, clustered, the default
    /// keyspace's replication loop (clients share its thread).
    public var threads = 0
    /// Memory for hot values; 0 reads every value from disk.
    public var valueCacheBytesMax = 32 << 20

    // Cluster (single-leader replication). A node runs clustered when `peers` is not empty.

    /// This node's name, unique in the cluster (`--id`).
    public var nodeName = "n1"
    /// Port for other nodes (`--peer-port`); 0 picks a free one.
    public var peerPort = 0
    /// Address peers bind to; loopback by default like the client port.
    public var peerBindAddress = "127.0.0.1"
    /// Every founding member, this node included: name and the exact host:port to dial
    /// (`--peers n1=127.0.0.1:17379,n2=...`).
    public var peers: [ClusterPeer] = []
    /// Start as a new, empty member and wait to be added (`--join`).
    public var joins = false
    /// The shared secret peers prove to each other (against misconfiguration, not attackers).
    /// The default is public, so it is refused on a peer port bound beyond loopback.
    public var clusterSecret = ServerConfiguration.defaultClusterSecret
    /// Milliseconds per Raft tick; elections time out after 10-20 ticks, heartbeats every 2.
    public var tickMillis = 50
    /// The acknowledgement mode of sessions that do not choose one.
    public var ackMode: AckMode = .majority
    /// A snapshot of the state machine is taken and the log compacted after this many entries.
    public var snapshotEntries = 250_000
    /// How long a forwarded or proposed write may wait for its outcome before the client is
    /// told it is unknown.
    public var writeTimeoutMillis = 10_000
    /// Port of the HTTP admin API (/status, /metrics, /rollback); nil disables it.
    public var adminPort: Int?
    /// How long a read may wait for a leader, a ReadIndex round or its session's token.
    public var readTimeoutMillis = 5_000

    /// Whether this node runs as a member of a replicated cluster.
    public var isClustered: Bool { !peers.isEmpty || joins }

    /// The storage engine's fsync policy, which every durability decision follows. Clustered,
    /// the Raft log is what makes a write durable (it is fsynced before any acknowledgement)
    /// and the engine is a cache of the applied log that syncs once a second, whatever
    /// `fsync` says; standalone, it is `fsync`.
    public var engineFsync: FsyncPolicy { isClustered ? .everysec : fsync }

    public init() {}

    /// Every option's name as used in config files (`key = value`) and, upper-cased with a
    /// `COHORT_` prefix and dashes as underscores, in the environment.
    public static let optionNames = [
        "bind", "port", "data-dir", "fsync", "password", "max-clients", "client-output-bytes-max",
        "bulk-bytes-max", "array-count-max", "inline-bytes-max", "key-bytes-max", "log-level",
        "pid-file", "threads", "value-cache-bytes-max", "id", "peer-port", "peer-bind", "peers",
        "join", "cluster-secret", "tick-ms", "ack", "snapshot-entries", "write-timeout-ms",
        "admin-port",
        "read-timeout-ms",
    ]

    /// Sets one option from its textual form, as found in a file, the environment or a flag.
    public mutating func set(_ name: String, to value: String) throws(ConfigurationError) {
        func integer(_ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
            guard let parsed = Int(value), range.contains(parsed) else {
                throw .invalidValue(option: name, value: value, expected: "an integer in \(range)")
            }
            return parsed
        }
        switch name {
        case "bind": bindAddress = value
        case "port": port = try integer(0...65_535)
        case "data-dir": dataDirectory = value
        case "fsync":
            guard let policy = FsyncPolicy(rawValue: value) else {
                throw .invalidValue(option: name, value: value, expected: "batch, everysec or none")
            }
            fsync = policy
        case "password": password = value.isEmpty ? nil : value
        case "max-clients": clientsMax = try integer(1...1_000_000)
        case "client-output-bytes-max": clientOutputBytesMax = try integer(1 << 16...Int.max)
        case "bulk-bytes-max": bulkBytesMax = try integer(1...(1 << 31))
        case "array-count-max": arrayCountMax = try integer(1...(1 << 31))
        case "inline-bytes-max": inlineBytesMax = try integer(16...(1 << 30))
        case "key-bytes-max": keyBytesMax = try integer(1...(512 << 20))
        case "log-level":
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            guard levels.contains(value) else {
                throw .invalidValue(
                    option: name, value: value, expected: levels.joined(separator: ", "))
            }
            logLevel = value
        case "pid-file": pidFile = value.isEmpty ? nil : value
        case "threads": threads = try integer(0...256)
        case "value-cache-bytes-max": valueCacheBytesMax = try integer(0...(1 << 36))
        case "id":
            guard !value.isEmpty, value.utf8.count <= 64,
                !value.contains(where: { $0 == "=" || $0 == "," || $0 == " " })
            else {
                throw .invalidValue(
                    option: name, value: value,
                    expected: "a name of 1-64 characters without '=', ',' or spaces")
            }
            nodeName = value
        case "peer-port": peerPort = try integer(0...65_535)
        case "admin-port": adminPort = value.isEmpty ? nil : try integer(0...65_535)
        case "peer-bind": peerBindAddress = value
        case "peers": peers = try Self.parsePeers(value)
        case "join":
            guard ["true", "false", "yes", "no", "1", "0"].contains(value) else {
                throw .invalidValue(option: name, value: value, expected: "true or false")
            }
            joins = ["true", "yes", "1"].contains(value)
        case "cluster-secret": clusterSecret = value
        case "tick-ms": tickMillis = try integer(1...10_000)
        case "ack":
            guard let mode = AckMode(rawValue: value) else {
                throw .invalidValue(option: name, value: value, expected: "all, majority or leader")
            }
            ackMode = mode
        case "snapshot-entries": snapshotEntries = try integer(100...(1 << 40))
        case "write-timeout-ms": writeTimeoutMillis = try integer(100...3_600_000)
        case "read-timeout-ms": readTimeoutMillis = try integer(100...3_600_000)
        default: throw .unknownOption(name)
        }
    }

    /// Parses `name=host:port,name=host:port,...`.
    static func parsePeers(_ value: String) throws(ConfigurationError) -> [ClusterPeer] {
        var result: [ClusterPeer] = []
        for item in value.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let colon = parts[1].lastIndex(of: ":"),
                let port = Int(parts[1][parts[1].index(after: colon)...]),
                (1...65_535).contains(port),
                !parts[0].isEmpty, colon != parts[1].startIndex
            else {
                throw .invalidValue(
                    option: "peers", value: value, expected: "name=host:port,name=host:port,...")
            }
            let name = String(parts[0])
            guard !result.contains(where: { $0.name == name }) else {
                throw .invalidValue(option: "peers", value: value, expected: "each name once")
            }
            result.append(ClusterPeer(name: name, host: String(parts[1][..<colon]), port: port))
        }
        return result
    }

    /// Applies `COHORT_*` variables from an environment dictionary.
    public mutating func apply(environment: [String: String]) throws(ConfigurationError) {
        for name in Self.optionNames {
            let variable = "COHORT_" + name.uppercased().replacingDashes()
            if let value = environment[variable] {
                try set(name, to: value)
            }
        }
    }

    /// Applies a parsed configuration file.
    public mutating func apply(file: ConfigurationFile) throws(ConfigurationError) {
        for (name, value) in file.entries {
            try set(name, to: value)
        }
    }
}

extension String {
    fileprivate func replacingDashes() -> String {
        String(map { $0 == "-" ? "_" : $0 })
    }
}

/// Why a configuration could not be used. Each case names the option so that the operator
/// knows what to fix.
public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    case unknownOption(String)
    case invalidValue(option: String, value: String, expected: String)
    case syntax(line: Int, message: String)
    /// Options that parse on their own but cannot be used together; the message says why and
    /// what to change (see ``ServerConfiguration/validationError``).
    case inconsistent(String)

    public var description: String {
        switch self {
        case .unknownOption(let name):
            return
                "unknown option '\(name)' (known: \(ServerConfiguration.optionNames.joined(separator: ", ")))"
        case .invalidValue(let option, let value, let expected):
            return "invalid value '\(value)' for '\(option)': expected \(expected)"
        case .syntax(let line, let message):
            return "config file line \(line): \(message)"
        case .inconsistent(let message):
            return message
        }
    }
}
