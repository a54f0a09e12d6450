import CohortCore
import CohortNode
import CohortRaft
import CohortReplication
import CohortStorage
import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A leaderless keyspace on a clustered node: its ``LeaderlessRuntime`` over the keyspace's
/// own engine, run on the default group's raft loop (where the peer transport delivers, so a
/// frame reaches the group without a thread hop), ticked every ``tickMillis``, with its
/// messages carried as forwarding frames of the keyspace's group id.
///
/// Connections call ``write(_:value:context:completion:)`` and ``read(_:completion:)`` from any
/// thread; the completions run on the raft loop.
final class LeaderlessHost: GroupEnvironment, @unchecked Sendable {
    let definition: KeyspaceDefinition
    let parameters: LeaderlessParameters
    let loop: any EventLoop
    let transport: PeerTransport
    let logger: Logger
    let syncQueue = DispatchQueue(label: "cohort-leaderless-sync")
    /// Set once in `open`, then only touched on `loop`.
    private(set) var runtime: LeaderlessRuntime!
    private var timer: RepeatedTask?
    /// Plain reads that answered one of several concurrent values (`CONFLICTS lww`).
    let lwwResolvedReads = NIOLockedValueBox(0)
    /// Reads (GET) that found more than one concurrent value.
    let siblingReads = NIOLockedValueBox(0)

    static let tickMillis: Int64 = 10

    private init(
        definition: KeyspaceDefinition, parameters: LeaderlessParameters, loop: any EventLoop,
        transport: PeerTransport, logger: Logger
    ) {
        self.definition = definition
        self.parameters = parameters
        self.loop = loop
        self.transport = transport
        self.logger = logger
    }

    /// Opens the keyspace over `engine` as node `nodeName`, and starts ticking.
    static func open(
        definition: KeyspaceDefinition, nodeName: String, engine: StorageEngine,
        loop: any EventLoop, transport: PeerTransport, logger: Logger
    ) throws -> LeaderlessHost {
        guard let parameters = definition.strategy.leaderless else {
            throw StorageError.failed("keyspace \(definition.name) is not leaderless")
        }
        let host = LeaderlessHost(
            definition: definition, parameters: parameters, loop: loop, transport: transport,
            logger: logger)
        let ring = LeaderlessRing(
            members: definition.voters.map(ReplicationDriver.nodeID(named:)),
            replicas: parameters.replicas)
        let runtime = try LeaderlessRuntime.open(
            nodeID: ReplicationDriver.nodeID(named: nodeName), ring: ring,
            configuration: parameters.configuration, engine: engine,
            groupID: GroupID(definition.groupID), environment: host)
        let keyspace = definition.name
        runtime.onLog = { level, message, fields in
            logger.log(level, message, fields: fields, base: ["keyspace": "\(keyspace)"])
        }
        // The disk writes of everything handled in one turn of the loop share one fsync.
        runtime.onDiskPending = { [host] in
            host.loop.execute { host.runtime.flushDisk() }
        }
        host.runtime = runtime
        host.timer = loop.scheduleRepeatedTask(
            initialDelay: .milliseconds(tickMillis), delay: .milliseconds(tickMillis)
        ) { [host] _ in host.runtime.tick() }
        return host
    }

    /// Stops ticking and closes the engine. Blocks until the loop has run the stop.
    func shutdown() {
        let engine = runtime.engine
        try? loop.submit { [self] in
            timer?.cancel()
            timer = nil
        }.wait()
        do {
            try engine.close()
        } catch {
            logger.error(
                "closing a leaderless keyspace's storage failed",
                metadata: ["keyspace": "\(definition.name)", "error": "\(error)"])
        }
    }

    // MARK: Requests (any thread)

    func write(
        _ key: [UInt8], value: [UInt8]?, context: VersionVector, quorum: Int?,
        completion: @escaping @Sendable (LeaderlessWriteResult) -> Void
    ) {
        loop.execute { [self] in
            runtime.write(
                key, value: value, context: context, quorum: quorum, completion: completion)
        }
    }

    func read(
        _ key: [UInt8], quorum: Int?,
        completion: @escaping @Sendable (LeaderlessReadResult) -> Void
    ) {
        loop.execute { [self] in runtime.read(key, quorum: quorum, completion: completion) }
    }

    /// The keyspace's status as `INFO leaderless` lists it, gathered on the loop.
    func status(completion: @escaping @Sendable ([(String, String)]) -> Void) {
        loop.execute { [self] in completion(statusFields()) }
    }

    private func statusFields() -> [(String, String)] {
        let group = runtime.group
        let statistics = group.statistics
        let staleness = group.staleness
        var fields: [(String, String)] = [
            ("leaderless_keyspace", definition.name),
            ("leaderless_settings", parameters.summary),
            ("leaderless_nodes", definition.voters.joined(separator: ",")),
            ("leaderless_keys", "\(group.keyCount)"),
            ("leaderless_writes_acknowledged", "\(statistics.writesAcknowledged)"),
            ("leaderless_writes_failed", "\(statistics.writesFailed)"),
            ("leaderless_reads_answered", "\(statistics.readsAnswered)"),
            ("leaderless_reads_failed", "\(statistics.readsFailed)"),
            ("leaderless_reads_with_siblings", "\(siblingReads.withLockedValue { $0 })"),
            ("leaderless_lww_resolved_reads", "\(lwwResolvedReads.withLockedValue { $0 })"),
            ("leaderless_read_repairs", "\(statistics.readRepairs)"),
            ("leaderless_anti_entropy_exchanges", "\(statistics.antiEntropyExchanges)"),
            ("leaderless_anti_entropy_keys_repaired", "\(statistics.antiEntropyKeysRepaired)"),
            ("leaderless_anti_entropy_bytes_sent", "\(runtime.antiEntropyBytesSent)"),
            ("leaderless_anti_entropy_bytes_received", "\(runtime.antiEntropyBytesReceived)"),
            ("leaderless_hinted_writes", "\(statistics.hintedWrites)"),
            ("leaderless_hints_refused", "\(statistics.hintsRefused)"),
            ("leaderless_hints_handed_off", "\(statistics.hintsHandedOff)"),
            ("leaderless_hints_pending", "\(group.hintsPending.values.reduce(0, +))"),
            ("leaderless_tombstones_collected", "\(statistics.tombstonesCollected)"),
            ("leaderless_sibling_warnings", "\(statistics.siblingWarnings)"),
            ("leaderless_sibling_refusals", "\(statistics.siblingRefusals)"),
            ("leaderless_staleness_writes_measured", "\(staleness.measured)"),
            ("leaderless_staleness_not_fully_replicated", "\(staleness.notFullyReplicated)"),
        ]
        for (home, count) in group.hintsPending.sorted(by: { $0.key < $1.key }) {
            fields.append(("leaderless_hints_pending_\(home)", "\(count)"))
        }
        for (label, fraction) in [("p50", 0.5), ("p99", 0.99), ("max", 1.0)] {
            let value = staleness.fullReplicationMillis(percentile: fraction).map { "\($0)" }
            fields.append(("leaderless_all_replicas_after_ack_ms_\(label)", value ?? "-"))
        }
        for millis: UInt64 in [0, 1, 10, 100] {
            let probability = staleness.probabilityReadSees(
                afterMillis: millis, readQuorum: parameters.readQuorum)
            let text = probability.map { String(format: "%.4f", $0) } ?? "-"
            fields.append(("leaderless_pbs_read_sees_write_after_\(millis)ms", text))
        }
        return fields
    }

    /// A peer's frame for this keyspace (on the raft loop, where the transport delivers).
    func receive(_ payload: [UInt8], from peer: NodeID) {
        if loop.inEventLoop {
            runtime.receive(payload, from: peer)
        } else {
            loop.execute { [self] in runtime.receive(payload, from: peer) }
        }
    }

    // MARK: GroupEnvironment

    func now() -> GroupTime { ReplicationDriver.now() }

    func send(_ messages: [RaftMessage], group: GroupID) {}

    func forward(_ bytes: [UInt8], to peer: NodeID, group: GroupID) {
        transport.sendForward(bytes, to: peer, group: group.rawValue)
    }

    func addPeer(_ peer: NodeID, endpoint: PeerEndpoint, admittedAt: LogIndex) {}

    func offload(
        _ kind: OffloadKind, _ work: @escaping @Sendable () -> @Sendable () -> Void
    ) {
        let loop = self.loop
        syncQueue.async {
            let continuation = work()
            loop.execute { continuation() }
        }
    }
}
