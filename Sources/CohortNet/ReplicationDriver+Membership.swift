import CohortCore
import CohortReplication
import Foundation

/// The addresses of members added online (COHORT NODE ADD; the default group decides, see
/// `LeaderGroup+Membership.swift`), saved so a restart can dial them even after the entries
/// that carried them were compacted away.
extension ReplicationDriver {
    /// The saved addresses, one `name host port` line each.
    static func loadPeers(path: String) -> [String: PeerAddress] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var peers: [String: PeerAddress] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let port = Int(fields[2]) else { continue }
            peers[String(fields[0])] = PeerAddress(host: String(fields[1]), port: port)
        }
        return peers
    }

    func savePeers() {
        let knownPeers = group.knownPeers
        let text = knownPeers.keys.sorted().map { name in
            "\(name) \(knownPeers[name]!.host) \(knownPeers[name]!.port)\n"
        }.joined()
        let path = configuration.dataDirectory + "/peers"
        do {
            try text.write(toFile: path + ".tmp", atomically: false, encoding: .utf8)
            _ = rename(path + ".tmp", path)
        } catch {
            logger.error("could not save peer addresses", metadata: ["error": "\(error)"])
        }
    }
}
