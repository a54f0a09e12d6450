import CohortCheck
import CohortCore
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A Jepsen-style workload for the cluster tests: concurrent clients SET and GET three keys
/// through every node while a nemesis acts on the leader; the history is checked for
/// linearizability and every acknowledged write of a unique key must be present at the end.
/// With a `keyspace`, every connection first switches to it (so a node that does not
/// replicate it proxies, and a witness forwards), and the nemesis acts on that keyspace's
/// leader.
enum ClusterWorkload {
    /// Runs clients for about 2 s, then `nemesis(leader)`, then 3 s more, and checks.
    static func runChecked(
        on cluster: TestCluster, ackMode: String, keyspace: String = "default",
        nemesis: (Int) throws -> Void
    ) throws {
        let firstLeader = try #require(cluster.waitForLeader(keyspace: keyspace))
        let history = Mutex(History())
        let acknowledged = Mutex<[String]>([])
        let stop = Atomic<Bool>(false)
        let ports = cluster.clientPorts
        let clients = 5
        let threads = (0..<clients).map { clientIndex in
            Thread {
                var random = SplitMix64(seed: UInt64(clientIndex) &+ 17)
                var sequence = 0
                var client: TestRESPClient?
                while !stop.load(ordering: .relaxed) {
                    sequence += 1
                    if client == nil {
                        let port = ports[Int(random.below(UInt64(ports.count)))]
                        client = try? TestRESPClient(port: port, timeoutSeconds: 4)
                        if (try? client?.call("COHORT", "ACK", ackMode))??.text != "OK"
                            || (try? client?.call("COHORT", "USE", keyspace))??.text != "OK"
                        {
                            client = nil
                        }
                    }
                    guard let connection = client else {
                        usleep(50_000)
                        continue
                    }
                    let key = "r\(random.below(3))"
                    let process = ProcessID(UInt64(clientIndex))
                    if random.below(2) == 0 {
                        let value = "c\(clientIndex)-\(sequence)"
                        let id = history.withLock {
                            $0.invoke(process: process, key: key, kind: .write(Array(value.utf8)))
                        }
                        let reply = try? connection.call("SET", key, value)
                        history.withLock { $0.complete(id, writeOutcome(reply)) }
                        if reply == nil { client = nil }
                    } else {
                        let id = history.withLock {
                            $0.invoke(process: process, key: key, kind: .read)
                        }
                        let reply = try? connection.call("GET", key)
                        history.withLock { $0.complete(id, readOutcome(reply)) }
                        if reply == nil { client = nil }
                    }
                    // Unique keys for the acknowledged-write check.
                    let unique = "u\(clientIndex)-\(sequence)"
                    if (try? client?.call("SET", unique, "1"))??.text == "OK" {
                        acknowledged.withLock { $0.append(unique) }
                    }
                    if random.below(10) == 0 { client = nil }
                }
            }
        }
        threads.forEach { $0.start() }
        usleep(2_000_000)
        try nemesis(firstLeader)
        usleep(3_000_000)
        stop.store(true, ordering: .relaxed)
        // Clients blocked on a paused or cut-off node give up within their 4 s timeout.
        let deadline = Date().addingTimeInterval(10)
        while threads.contains(where: \.isExecuting) && Date() < deadline { usleep(20_000) }

        let recorded = history.withLock { $0 }
        let completedOK = recorded.operations.filter {
            if case .ok = $0.effectiveOutcome { return true }
            return false
        }.count
        #expect(completedOK > 50, "too few operations succeeded to prove anything")
        let result = LinearizabilityChecker().check(recorded)
        #expect(result.isLinearizable, "\(result)")

        let leader = try #require(cluster.waitForLeader(keyspace: keyspace, seconds: 20))
        let reader = try TestRESPClient(port: cluster.clientPorts[leader])
        #expect(try reader.call("COHORT", "USE", keyspace).text == "OK")
        let keys = acknowledged.withLock { $0 }
        #expect(keys.count > 20, "too few acknowledged unique writes to check for loss")
        var missing = 0
        for key in keys where try reader.call("GET", key).text != "1" { missing += 1 }
        #expect(missing == 0, "\(missing) of \(keys.count) acknowledged writes missing")
    }

    /// OK is a success; TRYAGAIN and CLUSTERDOWN promise the write was not applied; anything
    /// else (UNCERTAIN, a timeout, a closed connection) is unknown.
    static func writeOutcome(_ reply: RESPValue?) -> OperationOutcome {
        guard let reply else { return .info }
        if reply.text == "OK" { return .ok(nil) }
        if case .error(let message) = reply,
            message.hasPrefix("TRYAGAIN") || message.hasPrefix("CLUSTERDOWN")
        {
            return .fail
        }
        return .info
    }

    static func readOutcome(_ reply: RESPValue?) -> OperationOutcome {
        switch reply {
        case .bulkString(let bytes): return .ok(bytes)
        case .null: return .ok(nil)
        case .error: return .fail
        default: return .info
        }
    }
}
