import CohortCore
import CohortNode
import CohortRaft
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// What every link and connection handler of one ``PeerTransport`` shares: identity,
/// configuration, the proof key, the message handler, counters and the set of open inbound
/// connections (so shutdown can close them).
final class PeerTransportContext: Sendable {
    let configuration: PeerTransportConfiguration
    let authenticator: PeerAuthenticator
    let logger: Logger
    /// What this node remembers of its peers' data directories; nil checks none (and presents
    /// incarnation 0).
    let identity: NodeIdentityStore?
    /// A Raft message for the replication group with the given id (0: the default keyspace).
    let onMessage: @Sendable (UInt64, RaftMessage) -> Void
    /// A forward payload from a peer for the replication group with the given id.
    let onForward: @Sendable (NodeID, UInt64, [UInt8]) -> Void
    private let counters = NIOLockedValueBox(PeerTransportStatistics())
    private let inbound = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
    private let shutDown = NIOLockedValueBox(false)

    init(
        configuration: PeerTransportConfiguration, identity: NodeIdentityStore?, logger: Logger,
        onMessage: @escaping @Sendable (UInt64, RaftMessage) -> Void,
        onForward: @escaping @Sendable (NodeID, UInt64, [UInt8]) -> Void
    ) {
        self.configuration = configuration
        self.authenticator = PeerAuthenticator(secret: configuration.clusterSecret)
        self.identity = identity
        self.logger = logger
        self.onMessage = onMessage
        self.onForward = onForward
    }

    var localID: NodeID { configuration.nodeID }

    /// This node's incarnation, as presented in handshakes.
    var localIncarnation: UInt64 { identity?.incarnation ?? 0 }

    /// Nil to accept `peer` presenting `incarnation`, or the reason to refuse it.
    func admit(_ peer: NodeID, presenting incarnation: UInt64) -> String? {
        guard let identity else { return nil }
        let reason = identity.admit(peer, presenting: incarnation)
        if reason != nil { count(\.incarnationsRefused) }
        return reason
    }

    var statistics: PeerTransportStatistics { counters.withLockedValue { $0 } }

    func count(_ field: WritableKeyPath<PeerTransportStatistics, Int>, _ amount: Int = 1) {
        counters.withLockedValue { $0[keyPath: field] += amount }
    }

    var isShutDown: Bool { shutDown.withLockedValue { $0 } }

    /// Marks the transport shut down and returns the inbound connections still open.
    func beginShutdown() -> [any Channel] {
        shutDown.withLockedValue { $0 = true }
        return inbound.withLockedValue { Array($0.values) }
    }

    /// Tracks an inbound connection; closes it at once when the transport is already shut down.
    func registerInbound(_ channel: any Channel) {
        let accepted = shutDown.withLockedValue { isShutDown -> Bool in
            guard !isShutDown else { return false }
            inbound.withLockedValue { $0[ObjectIdentifier(channel)] = channel }
            return true
        }
        if !accepted { channel.close(promise: nil) }
    }

    func unregisterInbound(_ channel: any Channel) {
        _ = inbound.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}
