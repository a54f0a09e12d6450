import ArgumentParser
import Foundation

/// `cohort status [--keyspace NAME]`: every node's role, term, commit and applied index, lag
/// and last election in one keyspace's replication group, from INFO replication. A node that
/// does not replicate the keyspace shows as not holding it.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the role, term, indexes and lag of each node.")

    @Option(
        name: .long,
        help: "Client addresses host:port,... (default the three nodes of `cohort up`).")
    var nodes = "127.0.0.1:7379,127.0.0.1:7380,127.0.0.1:7381"

    @Option(
        name: .long,
        help: "The keyspace whose replication group to show.")
    var keyspace = "default"

    func run() throws {
        let columns = [
            "cohort_node", "role", "cohort_term", "cohort_leader", "cohort_commit_index",
            "cohort_applied_index", "cohort_lag_entries", "cohort_lag_ms", "cohort_last_election",
        ]
        print(
            [
                "address", "node", "role", "term", "leader", "commit", "applied", "lag", "lag_ms",
                "last_election",
            ].joined(separator: "\t"))
        var unreachable = 0
        var keyspaces = ""
        for address in nodes.split(separator: ",") {
            guard let colon = address.lastIndex(of: ":"),
                let port = Int(address[address.index(after: colon)...])
            else { throw ValidationError("bad address \(address); expected host:port") }
            let host = String(address[..<colon])
            guard let info = RESPProbe.replicationInfo(host: host, port: port, keyspace: keyspace)
            else {
                print("\(address)\tunreachable (or no keyspace \(keyspace))")
                unreachable += 1
                continue
            }
            guard info["cohort_keyspace"] == nil || info["cohort_keyspace"] == keyspace else {
                // The node serves the keyspace by proxy: it has no group of its own for it.
                print("\(address)\tdoes not replicate \(keyspace)")
                continue
            }
            if keyspaces.isEmpty { keyspaces = info["cohort_keyspaces"] ?? "" }
            print(([String(address)] + columns.map { info[$0] ?? "-" }).joined(separator: "\t"))
            for (key, value) in info.sorted(by: { $0.key < $1.key }) where key.hasPrefix("slave") {
                print("\t\(key): \(value)")
            }
        }
        if keyspace == "default" && !keyspaces.isEmpty {
            print("keyspaces: \(keyspaces) (cohort status --keyspace NAME shows one)")
        }
        if unreachable > 0 { throw ExitCode(1) }
    }
}
