import CohortCore
import CohortNode
import Foundation
import Logging
import Testing

@testable import CohortNet
@testable import CohortStorage

/// A standalone server under `--fsync everysec` defers its engine's appends and writes them
/// once per event-loop turn before the replies (`StorageOptions.defersAppendWrites`). While
/// the disk is full the replies that depend on unwritten records are held, later writes are
/// refused with an error, reads of written data go on; once space is back, the held replies
/// go out and nothing is lost.
@Suite(.serialized)
struct DeferredAppendServerTests {
    @Test(.timeLimit(.minutes(1)))
    func fullDiskHoldsDependentRepliesAndRefusesWritesUntilSpaceReturns() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var options = StorageOptions()
        options.fsync = .everysec
        options.defersAppendWrites = true
        let engine = try StorageEngine.open(
            directory: directory.path, options: options, nowMillis: WallClock.nowMillis())
        defer { try? engine.close() }
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.fsync = .everysec
        configuration.dataDirectory = directory.path
        configuration.threads = 1
        let executor = CommandExecutor(
            engine: engine, configuration: configuration, statistics: ServerStatistics(),
            startedAtMillis: WallClock.nowMillis())
        let server = RESPServer(
            executor: executor,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let port = try server.start()
        defer { server.shutdown(drainSeconds: 1) }

        let writer = try TestRESPClient(port: port, timeoutSeconds: 1)
        let other = try TestRESPClient(port: port, timeoutSeconds: 5)
        #expect(try writer.call("SET", "before", "1").text == "OK")
        #expect(engine.sequences.written == engine.sequences.committed)

        engine.condition.lock()
        engine.appendWritesFailForTesting = .diskFull
        engine.condition.unlock()
        // Applied in memory, but its record cannot be written: no reply yet.
        try writer.send(["SET", "held", "2"])
        #expect(throws: (any Error).self, "the reply waits for its record") {
            try writer.readReply()
        }
        // Another client reads what was written, and has its writes refused.
        #expect(try other.call("GET", "before").text == "1")
        let refused = try other.call("SET", "refused", "3")
        #expect(refused.text?.hasPrefix("MISCONF") == true, "got \(refused)")
        let info = try #require(try other.call("INFO", "persistence").text)
        #expect(info.contains("aof_last_write_status:err"))

        engine.condition.lock()
        engine.appendWritesFailForTesting = nil
        engine.condition.unlock()
        // The flusher's retry writes the records and releases the held reply.
        var reply: RESPValue?
        for _ in 0..<10 where reply == nil {
            reply = try? writer.readReply()
        }
        #expect(reply?.text == "OK")
        #expect(try other.call("GET", "held").text == "2")
        #expect(try other.call("EXISTS", "refused") == .integer(0))
        #expect(try other.call("SET", "after", "4").text == "OK")
        #expect(engine.sequences.written == engine.sequences.committed)
        let infoAfter = try #require(try other.call("INFO", "persistence").text)
        #expect(infoAfter.contains("aof_last_write_status:ok"))
        #expect(infoAfter.contains("storage_writes_blocked_total:1"))
    }
}
