import CohortCore
import CohortReplication

/// The addresses of members added online (COHORT NODE ADD; the default group decides, see
/// `LeaderGroup+Membership.swift`), saved so a restart can dial them even after the entries
/// that carried them were compacted away (`PeerListFile`: temp file, fsync, rename).
extension ReplicationDriver {
    /// The saved addresses; damaged lines are reported and skipped.
    static func loadPeers(path: String) -> [String: PeerAddress] {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        return PeerListFile.loadReporting(directory: directory)
    }

    func savePeers() {
        let peers = group.knownPeers.mapValues { PeerAddress(host: $0.host, port: $0.port) }
        knownPeerNamesBox.withLockedValue { $0 = peers.keys.sorted() }
        do {
            try PeerListFile.save(peers, directory: configuration.dataDirectory)
        } catch {
            logger.error("could not save peer addresses", metadata: ["error": "\(error)"])
        }
    }
}
