import CohortCore
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension Tag {
    /// Tests that start real `cohort` processes; run alone with `swift test --filter ServerProcess`.
    @Tag static var process: Self
}

@Suite(.serialized, .tags(.process))
struct ServerProcessTests {
    /// Under `--fsync batch`, a write is acknowledged only after the fsync that covers it, so
    /// a SIGKILL at any moment loses no acknowledged write. Under `everysec` and `none` it is
    /// acknowledged once its record is written to the file (the operating system keeps it when
    /// the process dies; a crash of the machine may lose the last second), so a SIGKILL loses
    /// none either.
    @Test(.timeLimit(.minutes(2)), arguments: ["batch", "everysec", "none"])
    func sigkillLosesNoAcknowledgedWrite(fsync: String) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.path + "/data"
        let server = try ServerProcess(dataDirectory: data, extraArguments: ["--fsync", fsync])
        let writers = 4
        let acknowledged = Mutex<[(String, String)]>([])
        let stop = Atomic<Bool>(false)
        let port = server.port
        let threads = (0..<writers).map { writer in
            Thread {
                guard let client = try? TestRESPClient(port: port, timeoutSeconds: 5) else {
                    return
                }
                var sequence = 0
                while !stop.load(ordering: .relaxed) {
                    let key = "w\(writer):\(sequence)"
                    let value = "v\(sequence)-\(String(repeating: "x", count: sequence % 97))"
                    guard let reply = try? client.call("SET", key, value), reply.text == "OK" else {
                        return
                    }
                    acknowledged.withLock { $0.append((key, value)) }
                    sequence += 1
                }
            }
        }
        threads.forEach { $0.start() }
        // Let writes flow, then kill without warning.
        var waited = 0
        while acknowledged.withLock({ $0.count }) < 2_000 && waited < 200 {
            usleep(50_000)
            waited += 1
        }
        server.signal(SIGKILL)
        #expect(server.waitForExit(seconds: 10) != nil)
        stop.store(true, ordering: .relaxed)
        usleep(300_000)
        let acked = acknowledged.withLock { $0 }
        #expect(acked.count > 100, "too few writes were acknowledged to prove anything")

        let restarted = try ServerProcess(
            dataDirectory: data, extraArguments: ["--fsync", fsync])
        defer { restarted.stop() }
        let reader = try TestRESPClient(port: restarted.port)
        var missing = 0
        for (key, value) in acked where try reader.call("GET", key).text != value {
            missing += 1
        }
        #expect(missing == 0, "\(missing) of \(acked.count) acknowledged writes lost after SIGKILL")
    }

    @Test(.timeLimit(.minutes(1)))
    func sigtermDrainsAndKeepsData() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.path + "/data"
        let server = try ServerProcess(
            dataDirectory: data, extraArguments: ["--fsync", "everysec"])
        let client = try TestRESPClient(port: server.port)
        for index in 0..<500 {
            #expect(try client.call("SET", "k\(index)", "v\(index)").text == "OK")
        }
        server.signal(SIGTERM)
        #expect(server.waitForExit(seconds: 15) == 0, "SIGTERM must exit cleanly with status 0")
        let restarted = try ServerProcess(dataDirectory: data)
        defer { restarted.stop() }
        let reader = try TestRESPClient(port: restarted.port)
        #expect(try reader.call("DBSIZE") == .integer(500))
        #expect(try reader.call("GET", "k499").text == "v499")
    }

    @Test(.timeLimit(.minutes(1)))
    func badInputGetsErrorsAndNeverCrashesTheServer() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let server = try ServerProcess(dataDirectory: directory.path + "/data")
        defer { server.stop() }

        // A malformed multibulk length: an error reply, then the connection is closed.
        let malformed = try TestRESPClient(port: server.port)
        try malformed.send(raw: Array("*abc\r\n".utf8))
        #expect(try malformed.readReply() == .error("ERR Protocol error: invalid multibulk length"))
        #expect(malformed.readsEndOfStream())

        // An oversized bulk length is refused before any of it is buffered.
        let oversized = try TestRESPClient(port: server.port)
        try oversized.send(raw: Array("*2\r\n$3\r\nGET\r\n$99999999999\r\n".utf8))
        #expect(try oversized.readReply() == .error("ERR Protocol error: invalid bulk length"))
        #expect(oversized.readsEndOfStream())

        // An inline line longer than the limit.
        let inline = try TestRESPClient(port: server.port)
        try inline.send(raw: [UInt8](repeating: UInt8(ascii: "a"), count: 70_000))
        #expect(try inline.readReply() == .error("ERR Protocol error: too big inline request"))

        // Unknown commands and wrong arity are errors, and the connection lives on.
        let client = try TestRESPClient(port: server.port)
        let unknown = try client.call("FROBNICATE", "x")
        #expect(unknown.text?.hasPrefix("ERR unknown command 'FROBNICATE'") == true)
        #expect(try client.call("GET") == .error("ERR wrong number of arguments for 'get' command"))
        #expect(
            try client.call("SET", "k", "v", "EX", "zero")
                == .error("ERR value is not an integer or out of range"))

        // Seeded garbage on many connections.
        var generator = SplitMix64(seed: 42)
        for _ in 0..<50 {
            let garbage = try TestRESPClient(port: server.port, timeoutSeconds: 2)
            let length = Int.random(in: 1...4_096, using: &generator)
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try? garbage.send(raw: bytes)
        }
        // Truncated commands that never complete just wait; the server stays healthy.
        let truncated = try TestRESPClient(port: server.port)
        try truncated.send(raw: Array("*3\r\n$3\r\nSET\r\n$1\r\nk".utf8))

        let after = try TestRESPClient(port: server.port)
        #expect(try after.call("PING").text == "PONG")
        #expect(try after.call("SET", "still", "alive").text == "OK")
        #expect(server.isRunning)
    }

    @Test(.timeLimit(.minutes(1)))
    func pipelinedAndInlineRequestsAnswerInOrder() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let server = try ServerProcess(dataDirectory: directory.path + "/data")
        defer { server.stop() }
        let client = try TestRESPClient(port: server.port)
        var batch: [UInt8] = []
        for index in 0..<1_000 {
            batch += TestRESPClient.encode(["SET", "p\(index)", "\(index)"])
            batch += TestRESPClient.encode(["INCR", "p\(index)"])
        }
        try client.send(raw: batch)
        for index in 0..<1_000 {
            #expect(try client.readReply() == .simpleString("OK"))
            #expect(try client.readReply() == .integer(Int64(index + 1)))
        }
        try client.send(raw: Array("SET inline \"two words\"\r\nGET inline\r\n".utf8))
        #expect(try client.readReply() == .simpleString("OK"))
        #expect(try client.readReply().text == "two words")

        // The server parses a pipeline ahead of running it (to prefetch its keys): requests
        // before a protocol error in the same read still run and are answered, in order,
        // before the error, and nothing after it runs.
        let broken = try TestRESPClient(port: server.port)
        var doomed = TestRESPClient.encode(["SET", "before", "1"])
        doomed += TestRESPClient.encode(["INCR", "before"])
        doomed += TestRESPClient.encode(["MGET", "before", "p0"])
        doomed += Array("*1\r\n$x\r\n".utf8)
        doomed += TestRESPClient.encode(["SET", "after", "1"])
        try broken.send(raw: doomed)
        #expect(try broken.readReply() == .simpleString("OK"))
        #expect(try broken.readReply() == .integer(2))
        #expect(
            try broken.readReply()
                == .array([.bulkString(Array("2".utf8)), .bulkString(Array("1".utf8))]))
        #expect(try broken.readReply() == .error("ERR Protocol error: invalid bulk length"))
        #expect(broken.readsEndOfStream())
        #expect(try client.call("EXISTS", "after") == .integer(0))
    }

    @Test(.timeLimit(.minutes(1)))
    func passwordIsRequiredWhenConfigured() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let server = try ServerProcess(
            dataDirectory: directory.path + "/data", extraArguments: ["--password", "s3cret"])
        defer { server.stop() }
        let client = try TestRESPClient(port: server.port)
        #expect(try client.call("GET", "k") == .error("NOAUTH Authentication required."))
        #expect(try client.call("AUTH", "wrong").text?.hasPrefix("WRONGPASS") == true)
        #expect(try client.call("AUTH", "s3cret") == .simpleString("OK"))
        #expect(try client.call("SET", "k", "v") == .simpleString("OK"))
    }

    /// A server whose client or peer port is taken exits saying so, in the words the test
    /// harness looks for before it retries a cluster on fresh ports.
    @Test(.timeLimit(.minutes(1)))
    func takenPortIsReportedSoTheHarnessCanRetry() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        let taken = TestPorts.bindEphemeral(holder)
        #expect(listen(holder, 1) == 0)
        let free = ServerProcess.freePort()
        let layouts: [(client: Int, peer: Int)] = [(taken, free), (free, taken)]
        for (index, layout) in layouts.enumerated() {
            #expect {
                _ = try ServerProcess(
                    dataDirectory: directory.path + "/data\(index)", port: layout.client,
                    extraArguments: [
                        "--id", "n1", "--peer-port", "\(layout.peer)", "--peers",
                        "n1=127.0.0.1:\(layout.peer)",
                    ])
            } throws: { TestPorts.isPortTaken($0) }
        }
    }
}
