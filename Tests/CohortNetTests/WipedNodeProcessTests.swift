import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A node whose data directory is wiped and that restarts under its old name has forgotten its
/// votes and its log; it must not take part until the membership protocol readmits it
/// (issue 17: node identity). Real processes on loopback, stopped by process id.
@Suite(.serialized, .tags(.process, .cluster))
struct WipedNodeProcessTests {
    @Test(.timeLimit(.minutes(3)))
    func aWipedNodeIsRefusedUntilRemovedAndAddedAgain() throws {
        let cluster = try TestCluster()
        defer { cluster.shutdown() }
        let leader = try #require(cluster.waitForLeader())
        let client = try TestRESPClient(port: cluster.clientPorts[leader])
        #expect(try client.call("SET", "before", "kept").text == "OK")
        #expect(try client.call("WAIT", "2", "5000") == .integer(2))
        let wiped = (leader + 1) % 3
        let other = (leader + 2) % 3
        let name = cluster.names[wiped]

        cluster.kill(wiped)
        try FileManager.default.removeItem(atPath: cluster.directory.path + "/" + name)
        try cluster.start(wiped)
        // Both others refuse it: it presents a new incarnation under an old name.
        for index in [leader, other] {
            let refused = cluster.waitForField(index, "peer_incarnations_refused") {
                (Int($0) ?? 0) > 0
            }
            #expect((Int(refused ?? "") ?? 0) > 0, "node \(index) never refused \(name)")
        }
        let reason = cluster.replicationInfo(leader)?["peer_incarnation_refused_last"] ?? ""
        #expect(reason.contains("data directory was replaced"), "\(reason)")
        // It holds nothing and leads nothing; the others keep taking writes.
        let wipedInfo = cluster.replicationInfo(wiped)
        #expect(wipedInfo?["role"] != "leader")
        #expect(wipedInfo?["cohort_applied_index"] == "0", "\(wipedInfo ?? [:])")
        #expect(try client.call("SET", "during", "refused").text == "OK")

        // The way back: remove it, add it again; it is seeded and serves the data.
        let current = try #require(cluster.waitForLeader(among: [leader, other]))
        let admin = try TestRESPClient(port: cluster.clientPorts[current])
        #expect(try admin.call("COHORT", "NODE", "REMOVE", name).text == "OK")
        let added = try admin.call(
            "COHORT", "NODE", "ADD", name, "127.0.0.1:\(cluster.peerPorts[wiped])")
        #expect(added.text?.hasPrefix("OK") == true, "\(added)")
        let voters = cluster.waitForField(current, "cohort_voters", seconds: 60) {
            $0.split(separator: ",").contains(Substring(name))
        }
        #expect(voters?.split(separator: ",").contains(Substring(name)) == true, "\(voters ?? "")")
        let commit = try #require(
            cluster.replicationInfo(current)?["cohort_commit_index"].flatMap(UInt64.init))
        #expect(cluster.waitForApplied(wiped, atLeast: commit))
        let reader = try TestRESPClient(port: cluster.clientPorts[wiped])
        #expect(try reader.call("COHORT", "CONSISTENCY", "any").text == "OK")
        #expect(try reader.call("GET", "before").text == "kept")
        #expect(try reader.call("GET", "during").text == "refused")
    }
}
