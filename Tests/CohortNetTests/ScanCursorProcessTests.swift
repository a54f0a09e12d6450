import Foundation
import Testing

/// SCAN cursors are node-local (they name a position in the issuer's table); a client that
/// moves between nodes mid-scan must still get every key once (issue 17). Real processes.
@Suite(.serialized, .tags(.process, .cluster))
struct ScanCursorProcessTests {
    @Test(.timeLimit(.minutes(2)))
    func aDefaultKeyspaceScanContinuedOnAnotherNodeReturnsEveryKeyOnce() throws {
        let cluster = try TestCluster()
        defer { cluster.shutdown() }
        let leader = try #require(cluster.waitForLeader())
        let writer = try TestRESPClient(port: cluster.clientPorts[leader])
        let keys = (0..<60).map { "scan:\($0)" }
        for key in keys { #expect(try writer.call("SET", key, "v").text == "OK") }
        #expect(try writer.call("WAIT", "2", "5000") == .integer(2))

        // Pages alternate between the three nodes: each continues the previous one's cursor.
        let clients = try (0..<3).map { try TestRESPClient(port: cluster.clientPorts[$0]) }
        var seen: [String] = []
        var cursor = "0"
        var pages = 0
        repeat {
            let reply = try clients[pages % 3].call("SCAN", cursor, "COUNT", "7")
            guard case .array(let parts) = reply, parts.count == 2,
                let next = parts[0].text, case .array(let page) = parts[1]
            else {
                Issue.record("page \(pages): \(reply)")
                return
            }
            seen += page.compactMap(\.text)
            cursor = next
            pages += 1
        } while cursor != "0" && pages < 100
        #expect(pages > 3, "the scan took several pages across nodes")
        #expect(seen.count == keys.count, "\(seen.count) keys for \(keys.count)")
        #expect(Set(seen) == Set(keys))
    }
}
