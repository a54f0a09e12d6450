import CohortCore
import CohortNode
import CohortRaft
import CohortReplication
import CohortStorage
import Logging

/// The real world behind the group's runtime: the peer transport, the raft loop, a sync queue
/// and background threads, and the system's clocks.
extension ReplicationDriver: GroupEnvironment {
    public func now() -> GroupTime { Self.now() }

    public func send(_ messages: [RaftMessage], group: GroupID) {
        for message in messages { transport.send(message, group: group.rawValue) }
        // Out before this batch's fsync: followers write while the leader does.
        transport.flushQueuedOnCurrentLoop()
    }

    public func forward(_ bytes: [UInt8], to peer: NodeID, group: GroupID) {
        transport.sendForward(bytes, to: peer, group: group.rawValue)
    }

    public func addPeer(_ peer: NodeID, endpoint: PeerEndpoint, admittedAt: LogIndex) {
        if let identity {
            do {
                try identity.memberAdmitted(peer, at: admittedAt)
            } catch {
                // The old incarnation stays remembered: the readmitted node is refused until a
                // restart replays this entry and the save succeeds. Refusing is the safe side.
                logger.error(
                    "could not record a member's readmission",
                    metadata: ["peer": "\(peer)", "error": "\(error)"])
            }
        }
        transport.addPeer(peer, address: PeerAddress(host: endpoint.host, port: endpoint.port))
    }

    /// Log fsyncs run on `syncQueue`, one after another; snapshots on a background thread at
    /// low priority (see `BackgroundPriority`). The continuation runs on the raft loop.
    public func offload(
        _ kind: OffloadKind, _ work: @escaping @Sendable () -> @Sendable () -> Void
    ) {
        let loop = self.loop
        let finish: @Sendable (@escaping @Sendable () -> Void) -> Void = { [self] continuation in
            loop.execute { [self] in
                continuation()
                pump()
            }
        }
        switch kind {
        case .logSync:
            syncQueue.async { finish(work()) }
        case .snapshot:
            BackgroundPriority.run(name: "cohort-snapshot") { finish(work()) }
        }
    }

    /// Connects the runtime's callbacks to the node (`init` only).
    func wireRuntime() {
        let logger = self.logger
        let nodeName = configuration.nodeName
        runtime.onLog = { level, message, metadata in
            logger.log(level, message, fields: metadata, base: ["node": "\(nodeName)"])
        }
        runtime.onCatalogSaved = { [unowned self] catalog in
            catalogBox.withLockedValue { $0 = catalog }
            onCatalogSaved?(catalog)
        }
        runtime.onKeyspaceDefined = { [unowned self] definition in onKeyspaceDefined?(definition) }
        runtime.onLeftGroup = { [unowned self] in onLeftKeyspace?() }
        runtime.onPeersChanged = { [unowned self] _ in savePeers() }
        runtime.onStopped = { [unowned self] _ in
            isStopped = true
            tickTask?.cancel()
            tickTask = nil
        }
    }
}
