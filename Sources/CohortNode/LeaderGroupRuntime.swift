import CohortCore
import CohortRaft
import CohortReplication
import CohortStorage

/// Runs a ``LeaderGroup`` over the real storage: the Raft log store, the storage engine and
/// the rollback log. It turns a host's client requests into ``RequestID``s and back, runs the
/// group's actions (disk writes and fsyncs, applies, snapshots, replies) and hands their
/// completions back, and leaves the rest to its ``GroupEnvironment``: the same code runs on
/// SwiftNIO and in the simulator.
///
/// Not thread-safe: the host calls it from one thread (its "raft loop") only.
public final class LeaderGroupRuntime: @unchecked Sendable {
    /// The group's decisions.
    public internal(set) var group: LeaderGroup
    /// The Raft log.
    public let store: RaftLogStore
    /// The state machine.
    public let engine: StorageEngine
    let rollback: any RollbackRecording
    let dataDirectory: String
    unowned let environment: any GroupEnvironment
    /// Default group: a keyspace was defined (the node follows it).
    public var onKeyspaceDefined: ((KeyspaceDefinition) -> Void)?
    /// Default group: the keyspace catalog changed and is saved (readers elsewhere see it).
    public var onCatalogSaved: ((KeyspaceCatalog) -> Void)?
    /// Keyspace group: this node left the group.
    public var onLeftGroup: (() -> Void)?
    /// Default group: the addresses of members added online changed (save them).
    public var onPeersChanged: (([String: PeerEndpoint]) -> Void)?
    /// The group stopped (the node's status says so).
    public var onStopped: ((String) -> Void)?
    /// A log line for the host's logger.
    public var onLog: ((GroupLogLevel, String, [String: String]) -> Void)?
    /// Set once the group stopped.
    public internal(set) var isStopped = false

    var nextRequest: UInt64 = 1
    var writeCompletions: [RequestID: (RESPValue, UInt64) -> Void] = [:]
    var readCompletions: [RequestID: (ReadGate) -> Void] = [:]
    /// Inputs produced while running a batch, handed to the group once the batch is done.
    var deferredInputs: [(inout LeaderGroup) -> Void] = []

    /// The keyspace catalog's file in the default group's data directory.
    public static let catalogFileName = "keyspaces.catalog"

    /// A runtime over a group the host created (see ``open(configuration:evaluator:...)``).
    public init(
        group: LeaderGroup, store: RaftLogStore, engine: StorageEngine,
        rollback: any RollbackRecording, dataDirectory: String,
        environment: any GroupEnvironment
    ) {
        self.group = group
        self.store = store
        self.engine = engine
        self.rollback = rollback
        self.dataDirectory = dataDirectory
        self.environment = environment
    }

    /// Restores the engine from the log's snapshot when the engine is behind it (its writes
    /// since were never synced), and returns the index the engine then holds. A witness's
    /// snapshot holds metadata only (no data): there is nothing to restore from it.
    public static func restoreEngine(
        _ engine: StorageEngine, from store: RaftLogStore, nowMillis: UInt64,
        directory: String
    ) throws -> LogIndex {
        var engineApplied = LogIndex(engine.sequences.committed)
        if let snapshot = store.snapshot, engineApplied < snapshot.metadata.index,
            snapshot.size > 0
        {
            do {
                try restore(engine, from: store, metadata: snapshot.metadata, nowMillis: nowMillis)
            } catch {
                throw StorageError.failed(
                    "restoring the Raft snapshot in \(directory) failed: \(error)")
            }
            engineApplied = snapshot.metadata.index
        }
        return engineApplied
    }

    /// The marker file, in a keyspace's directory, of the last log index
    /// ``recordOrphanedEntries(directory:logOptions:rollback:nowMillis:)`` recorded.
    public static let orphansRecordedFileName = "orphans-recorded"

    /// For a keyspace this node is no longer a member of, whose group never left cleanly (the
    /// node crashed first, and a group is not opened for a keyspace that does not name the
    /// node): records in `rollback` the writes its Raft log in `directory/raft` holds beyond
    /// what the node knew committed, as possibly discarded, once (a marker file remembers the
    /// last index recorded). Returns how many it recorded; zero when no log remains.
    @discardableResult
    public static func recordOrphanedEntries(
        directory: String, logOptions: RaftLogStoreOptions, rollback: any RollbackRecording,
        nowMillis: UInt64
    ) throws -> Int {
        let device = logOptions.device
        guard let files = try? device.contentsOfDirectory(directory + "/raft"), !files.isEmpty
        else { return 0 }
        let store = try RaftLogStore.open(directory: directory + "/raft", options: logOptions)
        var after = store.hardState.commitIndex
        if let marker = try DurableFile.read(
            name: orphansRecordedFileName, directory: directory, device: device),
            let recorded = UInt64(String(decoding: marker, as: UTF8.self))
        {
            after = max(after, LogIndex(recorded))
        }
        var recorded = 0
        var next = max(after.next, store.firstIndex)
        while next <= store.lastIndex {
            defer { next = next.next }
            guard let entry = store.entry(at: next), case .normal(let data) = entry.kind,
                let logical = LogicalEntryCodec.decode(data), !logical.isEmpty
            else { continue }
            try rollback.record(index: next, term: entry.term, entry: logical, nowMillis: nowMillis)
            recorded += 1
        }
        if store.lastIndex > after {
            try DurableFile.write(
                Array("\(store.lastIndex.rawValue)".utf8), name: orphansRecordedFileName,
                directory: directory, device: device)
        }
        return recorded
    }

    /// The catalog saved in `directory` on `device`; empty when there is none. A damaged file
    /// is fatal: serving without keyspaces the cluster has would answer for data this node
    /// lost.
    public static func loadCatalog(directory: String, device: any StorageDevice) throws
        -> KeyspaceCatalog
    {
        guard
            let bytes = try DurableFile.read(
                name: catalogFileName, directory: directory, device: device)
        else {
            return KeyspaceCatalog()
        }
        guard let catalog = KeyspaceCatalog.decode(bytes) else {
            throw StorageError.failed("the keyspace catalog in \(directory) is damaged")
        }
        return catalog
    }

    // MARK: Inputs

    /// The tick timer fired.
    public func tick() {
        guard !isStopped else { return }
        group.tick(now: environment.now())
    }

    /// A peer's Raft message arrived.
    public func receive(_ message: RaftMessage) {
        guard !isStopped else { return }
        group.receive(message, now: environment.now())
    }

    /// A peer's forwarding frame arrived.
    public func receiveForward(_ payload: [UInt8], from peer: NodeID) {
        guard !isStopped else { return }
        group.receiveForward(payload, from: peer, now: environment.now())
    }

    /// A client's write command; `completion` gets the reply and the session's new token, from
    /// a later ``pump()``.
    public func submitWrite(
        _ arguments: [[UInt8]], token: SessionToken, ackMode: AckMode,
        completion: @escaping (RESPValue, UInt64) -> Void
    ) {
        let id = RequestID(nextRequest)
        nextRequest += 1
        writeCompletions[id] = completion
        group.submitWrite(
            id, arguments: arguments, token: token, ackMode: ackMode, now: environment.now())
    }

    /// A client's read; `completion` gets its gate, from a later ``pump()``.
    public func submitRead(
        consistency: ReadConsistency, token: SessionToken,
        completion: @escaping (ReadGate) -> Void
    ) {
        let id = RequestID(nextRequest)
        nextRequest += 1
        readCompletions[id] = completion
        group.submitRead(id, consistency: consistency, token: token, now: environment.now())
    }

    /// A keyspace group learns its keyspace's new definition.
    public func updateKeyspace(_ definition: KeyspaceDefinition) {
        group.updateKeyspace(definition)
    }

    /// The node is stopping: every request still waiting is answered.
    public func shutDown() {
        group.shutDown()
        pump()
    }

    /// The status as of now.
    public func status() -> LeaderGroupStatus {
        group.status(now: environment.now(), rollbackEntries: rollback.count)
    }

    /// Drains the group and runs its actions, batch after batch, until it has nothing left.
    public func pump() {
        while true {
            let actions = group.drain()
            guard !actions.isEmpty else { break }
            var failure: String?
            for action in actions {
                failure = run(action)
                if failure != nil { break }
            }
            group.finishedActions()
            if let failure {
                // The rest of the batch depended on what failed: drop it and stop.
                deferredInputs.removeAll()
                group.stop(because: failure)
                continue
            }
            let inputs = deferredInputs
            deferredInputs.removeAll()
            for input in inputs { input(&group) }
        }
    }
}
