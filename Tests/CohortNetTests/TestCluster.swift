import CohortCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A cluster of real `cohort server` processes on loopback. With `proxied`, node i reaches
/// node j through its own ``FaultProxy``, so a test can cut any link in either direction.
/// Everything is stopped by process id.
final class TestCluster {
    let size: Int
    let names: [String]
    private(set) var clientPorts: [Int] = []
    private(set) var peerPorts: [Int] = []
    /// HTTP admin API ports.
    private(set) var adminPorts: [Int] = []
    /// `proxies[i][j]`: how node i dials node j (nil on the diagonal or without proxies).
    private(set) var proxies: [[FaultProxy?]] = []
    let directory = TemporaryDirectory()
    let extraArguments: [String]
    private(set) var nodes: [ServerProcess?]

    /// Starts `size` nodes. When a node finds one of its ports taken meanwhile (by another
    /// test's connection), the whole cluster starts again on fresh ports, up to three times.
    init(size: Int = 3, proxied: Bool = false, extraArguments: [String] = []) throws {
        self.size = size
        self.extraArguments = extraArguments
        names = (1...size).map { "n\($0)" }
        nodes = Array(repeating: nil, count: size)
        for attempt in 1...3 {
            choosePorts(proxied: proxied)
            do {
                for index in 0..<size { try start(index) }
                return
            } catch  where attempt < 3 && TestPorts.isPortTaken(error) {
                stopAll()
                directory.remove()
                directory.create()
            }
        }
    }

    /// Fresh client, peer and admin ports, and (with `proxied`) a proxy for every link.
    private func choosePorts(proxied: Bool) {
        let ports = ServerProcess.freePorts(3 * size)
        clientPorts = Array(ports[0..<size])
        peerPorts = Array(ports[size..<(2 * size)])
        adminPorts = Array(ports[(2 * size)...])
        proxies = (0..<size).map { from in
            (0..<size).map { to in
                proxied && from != to ? FaultProxy(targetPort: peerPorts[to]) : nil
            }
        }
    }

    /// `--peers` as node `index` must dial them.
    func peersArgument(for index: Int) -> String {
        (0..<size).map { other in
            let port = proxies[index][other]?.port ?? peerPorts[other]
            return "\(names[other])=127.0.0.1:\(port)"
        }.joined(separator: ",")
    }

    /// Starts (or restarts) node `index` on its ports and data directory.
    func start(_ index: Int) throws {
        nodes[index] = try ServerProcess(
            dataDirectory: directory.path + "/" + names[index], port: clientPorts[index],
            extraArguments: [
                "--id", names[index], "--peer-port", "\(peerPorts[index])", "--peers",
                peersArgument(for: index), "--tick-ms", "50", "--admin-port",
                "\(adminPorts[index])",
            ] + extraArguments)
    }

    /// SIGKILL, and wait for the process to be gone.
    func kill(_ index: Int) {
        nodes[index]?.signal(SIGKILL)
        _ = nodes[index]?.waitForExit(seconds: 10)
        nodes[index] = nil
    }

    /// SIGTERM, waiting for a clean exit.
    func stop(_ index: Int) {
        nodes[index]?.stop()
        nodes[index] = nil
    }

    /// Cuts node `index` off from every other node, both directions.
    func isolate(_ index: Int) {
        for other in 0..<size where other != index {
            proxies[index][other]?.block()
            proxies[other][index]?.block()
        }
    }

    /// Cuts the link between nodes `a` and `b`, both directions; other links stay.
    func cut(_ a: Int, _ b: Int) {
        proxies[a][b]?.block()
        proxies[b][a]?.block()
    }

    /// Restores every link.
    func healAll() {
        for row in proxies { for proxy in row { proxy?.heal() } }
    }

    /// INFO replication of node `index`, or nil when it does not answer.
    func replicationInfo(_ index: Int, keyspace: String = "default") -> [String: String]? {
        guard nodes[index] != nil else { return nil }
        return Self.replicationInfo(port: clientPorts[index], keyspace: keyspace)
    }

    /// INFO replication of `keyspace` through the node serving clients on `port` (any node,
    /// a joiner included), or nil when it does not answer.
    static func replicationInfo(port: Int, keyspace: String = "default") -> [String: String]? {
        guard let client = try? TestRESPClient(port: port, timeoutSeconds: 2),
            keyspace == "default" || (try? client.call("COHORT", "USE", keyspace))?.text == "OK",
            let text = (try? client.call("INFO", "replication"))?.text
        else { return nil }
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    /// The node that says it leads, among `candidates` (default all running), waiting up to
    /// `seconds`.
    /// In `keyspace`'s group, when given (a node serving it by proxy reports the default
    /// group's fields, so it never counts).
    func waitForLeader(
        among candidates: [Int]? = nil, keyspace: String = "default", seconds: Double = 15
    ) -> Int? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            for index in candidates ?? Array(0..<size) {
                guard let info = replicationInfo(index, keyspace: keyspace),
                    info["role"] == "leader",
                    keyspace == "default" || info["cohort_keyspace"] == keyspace
                else { continue }
                return index
            }
            usleep(100_000)
        }
        return nil
    }

    /// Waits until node `index` has applied at least `appliedIndex`.
    func waitForApplied(_ index: Int, atLeast appliedIndex: UInt64, seconds: Double = 30) -> Bool {
        let applied = waitForField(index, "cohort_applied_index", seconds: seconds) {
            (UInt64($0) ?? 0) >= appliedIndex
        }
        return (applied.flatMap(UInt64.init) ?? 0) >= appliedIndex
    }

    /// Reads `field` of node `index`'s INFO replication until `accept` holds or `seconds`
    /// pass; returns the last value read (nil when the node never answered).
    func waitForField(
        _ index: Int, _ field: String, seconds: Double = 30, _ accept: (String) -> Bool
    ) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        var last: String?
        while Date() < deadline {
            last = replicationInfo(index)?[field] ?? last
            if let last, accept(last) { return last }
            usleep(100_000)
        }
        return last
    }

    /// Stops every node and proxy and removes the data.
    func shutdown() {
        stopAll()
        directory.remove()
    }

    private func stopAll() {
        for index in 0..<size { stop(index) }
        for row in proxies { for proxy in row { proxy?.stop() } }
    }

    deinit { shutdown() }
}
