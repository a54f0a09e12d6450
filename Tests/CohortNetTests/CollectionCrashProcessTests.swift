import CohortCore
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Big collections and transactions under `--fsync batch` and a SIGKILL: every acknowledged
/// element change is there after the restart, and no EXEC is half applied.
@Suite(.serialized, .tags(.process))
struct CollectionCrashProcessTests {
    @Test(.timeLimit(.minutes(3)))
    func sigkillLosesNoAcknowledgedElementAndSplitsNoExec() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.path + "/data"
        let server = try ServerProcess(dataDirectory: data, extraArguments: ["--fsync", "batch"])
        let port = server.port
        // A big hash first, pipelined: later writes go into a collection of 20,000 fields.
        let loader = try TestRESPClient(port: port, timeoutSeconds: 30)
        let preload = 20_000
        var batch: [UInt8] = []
        for index in 0..<preload {
            batch += TestRESPClient.encode(["HSET", "bigh", "pre:\(index)", "v\(index)"])
        }
        try loader.send(raw: batch)
        for _ in 0..<preload { _ = try loader.readReply() }
        #expect(try loader.call("HLEN", "bigh") == .integer(Int64(preload)))

        // One writer per type, and one running transactions, until the kill.
        let acknowledged = Mutex<[String: [Int]]>([:])
        let stop = Atomic<Bool>(false)
        let writers: [(String, @Sendable (Int) -> [String])] = [
            ("hash", { ["HSET", "bigh", "f:\($0)", "v\($0)"] }),
            ("set", { ["SADD", "bigs", "m:\($0)"] }),
            ("list", { ["RPUSH", "bigl", "item:\($0)"] }),
            ("zset", { ["ZADD", "bigz", "\($0)", "m:\($0)"] }),
        ]
        var threads = writers.map { name, command in
            Thread {
                guard let client = try? TestRESPClient(port: port, timeoutSeconds: 5) else {
                    return
                }
                var sequence = 0
                while !stop.load(ordering: .relaxed) {
                    // 1 (a new element), or a list's new length.
                    guard let reply = try? client.call(command(sequence)),
                        case .integer(let count) = reply, count >= 1
                    else { return }
                    acknowledged.withLock { $0[name, default: []].append(sequence) }
                    sequence += 1
                }
            }
        }
        threads.append(
            Thread {
                guard let client = try? TestRESPClient(port: port, timeoutSeconds: 5) else {
                    return
                }
                var sequence = 0
                while !stop.load(ordering: .relaxed) {
                    guard (try? client.call("MULTI"))?.text == "OK",
                        (try? client.call("HSET", "txh", "k\(sequence)", "1"))?.text == "QUEUED",
                        (try? client.call("SADD", "txs", "k\(sequence)"))?.text == "QUEUED",
                        let reply = try? client.call("EXEC"),
                        reply == .array([.integer(1), .integer(1)])
                    else { return }
                    acknowledged.withLock { $0["exec", default: []].append(sequence) }
                    sequence += 1
                }
            })
        threads.forEach { $0.start() }
        var waited = 0
        while acknowledged.withLock({ $0.values.map(\.count).min() ?? 0 }) < 200 && waited < 300 {
            usleep(50_000)
            waited += 1
        }
        server.signal(SIGKILL)
        #expect(server.waitForExit(seconds: 10) != nil)
        stop.store(true, ordering: .relaxed)
        usleep(300_000)
        let acked = acknowledged.withLock { $0 }
        for name in ["hash", "set", "list", "zset", "exec"] {
            #expect((acked[name]?.count ?? 0) >= 50, "too few \(name) writes acknowledged")
        }

        let restarted = try ServerProcess(
            dataDirectory: data, extraArguments: ["--fsync", "batch"])
        defer { restarted.stop() }
        let reader = try TestRESPClient(port: restarted.port, timeoutSeconds: 30)
        #expect(try reader.call("HGET", "bigh", "pre:\(preload - 1)").text == "v\(preload - 1)")
        var missing = 0
        for sequence in acked["hash"] ?? []
        where try reader.call("HGET", "bigh", "f:\(sequence)").text != "v\(sequence)" {
            missing += 1
        }
        for sequence in acked["set"] ?? []
        where try reader.call("SISMEMBER", "bigs", "m:\(sequence)") != .integer(1) {
            missing += 1
        }
        for sequence in acked["zset"] ?? []
        where try reader.call("ZSCORE", "bigz", "m:\(sequence)").text != "\(sequence)" {
            missing += 1
        }
        // The list holds every acknowledged push, in order, and perhaps one unacknowledged.
        guard case .array(let items) = try reader.call("LRANGE", "bigl", "0", "-1") else {
            Issue.record("LRANGE did not answer an array")
            return
        }
        let pushed = acked["list"] ?? []
        #expect(items.count >= pushed.count && items.count <= pushed.count + 1)
        for (index, sequence) in pushed.enumerated()
        where index >= items.count || items[index].text != "item:\(sequence)" {
            missing += 1
        }
        #expect(missing == 0, "\(missing) acknowledged element changes lost after SIGKILL")
        // Every transaction is all there or not at all (RESP2: SMEMBERS answers an array).
        guard case .array(let fields) = try reader.call("HKEYS", "txh"),
            case .array(let members) = try reader.call("SMEMBERS", "txs")
        else {
            Issue.record("HKEYS / SMEMBERS did not answer arrays")
            return
        }
        #expect(
            Set(fields.compactMap(\.text)) == Set(members.compactMap(\.text)), "a half-applied EXEC"
        )
        #expect(fields.count >= (acked["exec"]?.count ?? 0))
    }
}
