import CohortCore
import CohortReplication
import CohortStorage

/// Runs a ``LeaderlessGroup`` over the real storage engine: the host's client requests become
/// ``RequestID``s and the group's answers come back to their completions; the group's disk
/// writes become engine transactions, fsynced (under `--fsync batch`) before the group hears
/// they are durable; its messages leave through the ``GroupEnvironment`` as forwarding frames
/// of the keyspace's group. The same code runs on SwiftNIO and in the simulator.
///
/// On disk, a key's state is the encoded ``SiblingSet`` under the key itself; hints and the
/// dot reservation live under keys that begin with ``reservedPrefix``, which clients cannot
/// use. Opening reads every state into the group (leaderless keyspaces keep their states in
/// memory for now, as the group does).
///
/// Not thread-safe: the host calls it from one thread only.
public final class LeaderlessRuntime: @unchecked Sendable {
    /// The group's decisions.
    public internal(set) var group: LeaderlessGroup
    /// Where states, hints and the dot reservation are kept.
    public let engine: StorageEngine
    /// The keyspace's group id (forwarding frames carry it).
    public let groupID: GroupID
    unowned let environment: any GroupEnvironment
    /// A log line for the host's logger.
    public var onLog: ((GroupLogLevel, String, [String: String]) -> Void)?
    /// Set once a disk write failed: the runtime answers every request with an error since.
    public internal(set) var failure: String?
    /// Bytes of anti-entropy messages (trees, digests, exchanged states) sent and received.
    public internal(set) var antiEntropyBytesSent = 0
    public internal(set) var antiEntropyBytesReceived = 0

    var nextRequest: UInt64 = 1
    var writeCompletions: [RequestID: (LeaderlessWriteResult) -> Void] = [:]
    var readCompletions: [RequestID: (LeaderlessReadResult) -> Void] = [:]
    var pumping = false
    /// When set, disk writes wait for ``flushDisk()``, which the host calls once per turn of
    /// its event loop (the hook asks for that call), so that the writes of every message and
    /// request handled in one turn share one transaction and one fsync. Without it, each
    /// drain's writes are made durable at once.
    public var onDiskPending: (() -> Void)?
    /// Disk records waiting for ``flushDisk()``.
    var pendingDisk: [(DiskOperationID, [UInt8], [UInt8]?)] = []
    /// Disk batches written and not yet known durable, in order: the engine sequence that
    /// covers each, and its operations.
    var unsyncedBatches: [(sequence: UInt64, operations: [DiskOperationID])] = []

    /// Keys beginning with these bytes hold the runtime's own records.
    public static let reservedPrefix: [UInt8] = [0xFF, 0xFF]
    static let hintPrefix: [UInt8] = reservedPrefix + Array("hint".utf8)
    static let dotFloorKey: [UInt8] = reservedPrefix + Array("dots".utf8)

    init(
        group: LeaderlessGroup, engine: StorageEngine, groupID: GroupID,
        environment: any GroupEnvironment
    ) {
        self.group = group
        self.engine = engine
        self.groupID = groupID
        self.environment = environment
    }

    /// Opens the runtime of `nodeID` over `engine`, loading its durable states, hints and dot
    /// reservation. Throws when a stored record cannot be read (the engine checks checksums;
    /// this is a record no version of Cohort wrote).
    public static func open(
        nodeID: NodeID, ring: LeaderlessRing, configuration: LeaderlessConfiguration,
        engine: StorageEngine, groupID: GroupID, environment: any GroupEnvironment
    ) throws -> LeaderlessRuntime {
        let nowMillis = environment.now().wallMillis
        var states: [[UInt8]: SiblingSet] = [:]
        var hints: [NodeID: [[UInt8]: SiblingSet]] = [:]
        var dotFloor: UInt64 = 0
        var cursor: [UInt8]?
        repeat {
            let page = engine.scan(after: cursor, count: 1_024, nowMillis: nowMillis)
            for key in page.keys {
                guard let stored = try engine.get(key, nowMillis: nowMillis) else { continue }
                let bytes = stored.bytes
                if key == dotFloorKey {
                    guard bytes.count == 8 else { throw corrupt(key) }
                    dotFloor = bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
                } else if key.starts(with: hintPrefix) {
                    guard key.count >= hintPrefix.count + 8, let state = SiblingSet(encoded: bytes)
                    else { throw corrupt(key) }
                    let home = key[hintPrefix.count..<(hintPrefix.count + 8)]
                        .reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                    hints[NodeID(home), default: [:]][Array(key[(hintPrefix.count + 8)...])] = state
                } else {
                    guard let state = SiblingSet(encoded: bytes) else { throw corrupt(key) }
                    states[key] = state
                }
            }
            cursor = page.next
        } while cursor != nil
        let group = LeaderlessGroup(
            nodeID: nodeID, ring: ring, configuration: configuration, durableStates: states,
            durableHints: hints, durableDotFloor: dotFloor)
        return LeaderlessRuntime(
            group: group, engine: engine, groupID: groupID, environment: environment)
    }

    static func corrupt(_ key: [UInt8]) -> StorageError {
        .failed("leaderless record \(key.prefix(64)) is not a state this node can read")
    }

    /// Whether clients may use `key` (the reserved prefix is the runtime's own).
    public static func isClientKey(_ key: [UInt8]) -> Bool {
        !key.starts(with: reservedPrefix)
    }

    // MARK: Inputs

    /// A client's write (nil deletes), answered by `completion` on the runtime's thread;
    /// `quorum` overrides W for it.
    public func write(
        _ key: [UInt8], value: [UInt8]?, context: VersionVector, quorum: Int? = nil,
        completion: @escaping (LeaderlessWriteResult) -> Void
    ) {
        if let failure {
            return completion(.failed("ERR this node's keyspace stopped: \(failure)"))
        }
        let request = newRequest()
        writeCompletions[request] = completion
        group.submitWrite(
            request, key: key, value: value, context: context, writeQuorum: quorum,
            now: environment.now())
        pump()
    }

    /// A client's read, answered by `completion` on the runtime's thread; `quorum` overrides
    /// R for it.
    public func read(
        _ key: [UInt8], quorum: Int? = nil,
        completion: @escaping (LeaderlessReadResult) -> Void
    ) {
        if let failure {
            return completion(.failed("ERR this node's keyspace stopped: \(failure)"))
        }
        let request = newRequest()
        readCompletions[request] = completion
        group.submitRead(request, key: key, readQuorum: quorum, now: environment.now())
        pump()
    }

    /// A peer's frame for this keyspace arrived; frames that do not decode are dropped (and
    /// logged), as a corrupt frame is.
    public func receive(_ bytes: [UInt8], from peer: NodeID) {
        guard failure == nil else { return }
        guard let message = LeaderlessMessageCodec.decode(bytes) else {
            onLog?(
                .warning, "dropped a leaderless frame that does not decode",
                ["peer": "\(peer)", "bytes": "\(bytes.count)"])
            return
        }
        if message.isAntiEntropy { antiEntropyBytesReceived += bytes.count }
        group.receive(message, from: peer, now: environment.now())
        pump()
    }

    /// Time passed.
    public func tick() {
        guard failure == nil else { return }
        group.tick(now: environment.now())
        pump()
    }

    private func newRequest() -> RequestID {
        defer { nextRequest += 1 }
        return RequestID(nextRequest)
    }

    // MARK: Actions

    /// Runs the group's actions until it has none: disk writes of one drain go to the engine
    /// as one transaction and one fsync, and the group hears of them in order.
    func pump() {
        guard !pumping else { return }
        pumping = true
        defer { pumping = false }
        while failure == nil {
            let actions = group.drain()
            if actions.isEmpty { return }
            var disk: [(DiskOperationID, [UInt8], [UInt8]?)] = []
            for action in actions {
                switch action {
                case .send(let message, let peer):
                    let bytes = LeaderlessMessageCodec.encode(message)
                    if message.isAntiEntropy { antiEntropyBytesSent += bytes.count }
                    environment.forward(bytes, to: peer, group: groupID)
                case .persist(let id, let key, let state):
                    disk.append((id, key, state.isEmpty ? nil : state.encoded))
                case .persistHint(let id, let home, let key, let state):
                    var hintKey = Self.hintPrefix
                    for shift in stride(from: 56, through: 0, by: -8) {
                        hintKey.append(UInt8(truncatingIfNeeded: home.rawValue >> UInt64(shift)))
                    }
                    disk.append((id, hintKey + key, state?.encoded))
                case .persistDotFloor(let id, let floor):
                    var bytes: [UInt8] = []
                    for shift in stride(from: 0, to: 64, by: 8) {
                        bytes.append(UInt8(truncatingIfNeeded: floor >> UInt64(shift)))
                    }
                    disk.append((id, Self.dotFloorKey, bytes))
                case .writeDone(let request, let result):
                    writeCompletions.removeValue(forKey: request)?(result)
                case .readDone(let request, let result):
                    readCompletions.removeValue(forKey: request)?(result)
                }
            }
            guard !disk.isEmpty else { continue }
            if let onDiskPending {
                if pendingDisk.isEmpty { onDiskPending() }
                pendingDisk.append(contentsOf: disk)
            } else {
                persist(disk)
            }
        }
    }

    /// Writes and syncs every disk record waiting since the last call (see ``onDiskPending``).
    public func flushDisk() {
        guard failure == nil, !pendingDisk.isEmpty else { return }
        let records = pendingDisk
        pendingDisk.removeAll()
        persist(records)
        pump()
    }

    /// Writes one drain's records as a transaction and makes them durable; the group hears of
    /// each batch once it is durable, in the order of the batches (``durable(through:)``).
    private func persist(_ records: [(DiskOperationID, [UInt8], [UInt8]?)]) {
        let now = environment.now()
        let commit: Commit?
        do {
            commit = try engine.transaction(nowMillis: now.wallMillis) { transaction in
                for (_, key, value) in records {
                    if let value {
                        try transaction.set(key, value: value)
                    } else {
                        transaction.delete(key)
                    }
                }
            }.commit
        } catch {
            return stop("writing leaderless states failed: \(error)")
        }
        // A transaction that changed nothing is durable once the batches before it are.
        let sequence = commit?.sequence ?? (unsyncedBatches.last?.sequence ?? 0)
        unsyncedBatches.append((sequence, records.map(\.0)))
        switch engine.syncOnCaller(through: sequence) {
        case .success?:
            durable(through: sequence)
        case .failure(let error)?:
            stop("making leaderless states durable failed: \(error)")
        case nil:
            // Another fsync is in flight: this one is answered when the one that covers it
            // ends, back on the runtime's thread.
            let commitDone = Commit(sequence: sequence)
            engine.whenDurable(commitDone) { [self] result in
                environment.offload(.logSync) {
                    { [self] in
                        if case .failure(let error) = result {
                            stop("making leaderless states durable failed: \(error)")
                        } else {
                            durable(through: sequence)
                        }
                    }
                }
            }
        }
    }

    /// Everything the engine committed through `sequence` is durable: the group hears of the
    /// batches it covers, in order.
    func durable(through sequence: UInt64) {
        guard failure == nil else { return }
        var completed = 0
        for batch in unsyncedBatches {
            guard batch.sequence <= sequence else { break }
            for id in batch.operations { group.diskCompleted(id, now: environment.now()) }
            completed += 1
        }
        unsyncedBatches.removeFirst(completed)
        if completed > 0 { pump() }
    }

    /// A disk write failed: what the group believes durable may not be, so it takes no more
    /// input, and every waiting client gets an error (its write may or may not be applied).
    func stop(_ reason: String) {
        failure = reason
        onLog?(.error, "leaderless keyspace stopped", ["reason": reason])
        let message = "ERR this node's keyspace stopped: \(reason)"
        for (_, completion) in writeCompletions.sorted(by: { $0.key < $1.key }) {
            completion(.failed(message))
        }
        for (_, completion) in readCompletions.sorted(by: { $0.key < $1.key }) {
            completion(.failed(message))
        }
        writeCompletions.removeAll()
        readCompletions.removeAll()
    }
}
