import CohortCore
import CohortPrefetch
import Foundation
import Glibc
import Synchronization

/// The durable log-structured storage engine (DESIGN.md §5): append-only segment files of
/// checksummed records, an in-memory copy-on-write ordered index from key to the newest
/// version's location, group commit, hint files for fast restarts, snapshots and compaction.
///
/// Internally synchronized: one lock (`condition`) guards the index, the segment table and the
/// append position; fsyncs, value reads and compaction copying run outside it.
/// Do not call the engine's own methods from inside a `transaction` body (the lock is held).
public final class StorageEngine: @unchecked Sendable {
    /// A callback waiting for durability.
    typealias DurabilityWaiter = (
        sequence: UInt64, completion: @Sendable (Result<Void, StorageError>) -> Void
    )

    /// Waiters for durability held at once; `whenDurable` blocks beyond this (back pressure).
    static let durabilityWaitersMax = 1 << 20

    let directory: String
    let options: StorageOptions
    /// Guards every mutable property below; the engine's threads wait on it.
    let condition = NSCondition()
    /// Serializes compaction runs.
    let compactionLock = NSLock()

    /// Every key's newest version: an ordered tree plus a hash table for point lookups.
    var index = KeyIndex()
    var segments: [UInt32: SegmentState] = [:]
    /// The segment receiving appends.
    var activeID: UInt32 = 0
    var nextSegmentID: UInt32 = 1
    /// Highest committed sequence. Invariant: strictly increases with every commit.
    /// Written under `condition`; stored in an atomic so that `sequences` can be read without
    /// the lock, which the network shell does for every reply.
    var lastSequence: UInt64 {
        get { lastSequenceAtomic.load(ordering: .acquiring) }
        set { lastSequenceAtomic.store(newValue, ordering: .releasing) }
    }
    /// Highest sequence covered by an fsync. Invariant: durableSequence <= lastSequence.
    /// Written under `condition`, readable without it like `lastSequence`.
    var durableSequence: UInt64 {
        get { durableSequenceAtomic.load(ordering: .acquiring) }
        set { durableSequenceAtomic.store(newValue, ordering: .releasing) }
    }
    /// Highest sequence whose records are all in the segment files (in the operating
    /// system's cache, perhaps not yet on disk). Invariant: durableSequence <= writtenSequence
    /// <= lastSequence, except that a commit's own append and its bookkeeping are one step
    /// apart under the lock. Written under `condition`, readable without it.
    var writtenSequence: UInt64 {
        get { writtenSequenceAtomic.load(ordering: .acquiring) }
        set { writtenSequenceAtomic.store(newValue, ordering: .releasing) }
    }
    private let lastSequenceAtomic = Atomic<UInt64>(0)
    private let durableSequenceAtomic = Atomic<UInt64>(0)
    private let writtenSequenceAtomic = Atomic<UInt64>(0)
    var clock = HybridLogicalClock()
    var durabilityWaiters: [DurabilityWaiter] = []
    /// Set after an fsync or rollback failure; every later write is refused with it.
    var failure: StorageError?
    var isClosed = false
    var isStopping = false
    var runningThreads = 0
    var backgroundStarted = false
    /// Sealed segments whose hint file is still to be written (outside the lock).
    var pendingHintSegments: [UInt32] = []
    /// Where the next active expiry sweep step starts.
    var sweepCursor: [UInt8]?
    /// At or above the version of every collection element in the index and every version a
    /// committed transaction handed out: a new collection's version is above it (see
    /// `EngineKey`).
    var collectionVersionHigh: UInt64 = 0
    /// Tests simulate a slow disk with this pause before each durability fsync.
    var fsyncDelayMicrosForTesting: UInt32 = 0
    /// Tests make the next durability fsync fail.
    var fsyncFailureForTesting = false
    /// Index entries compaction moves to its output per hold of the lock (tests lower it).
    var compactionMovesPerLock = 2_048
    /// Tests run this (without the lock) each time compaction lets go of the lock between two
    /// batches of index moves.
    var compactionPauseForTesting: (@Sendable () -> Void)?
    /// Tests make every preallocation of the active segment fail (a full disk).
    var preallocationFailsForTesting = false
    /// Tests make the next append write only this many bytes, then fail with this error.
    var appendFailureForTesting: (bytesWritten: Int, error: StorageError)?
    /// Tests make every append write fail with this error until they clear it (a disk that
    /// stays full).
    var appendWritesFailForTesting: StorageError?
    /// The buffer commits encode their records into, kept between commits (see
    /// `takeAppendBuffer`); guarded by `condition`.
    var appendBuffer: [UInt8] = []
    /// The largest append buffer kept for the next commit.
    static let appendBufferKeptBytesMax = 1 << 20
    /// Records appended to the active segment but not yet written to its file, under `.batch`
    /// or `defersAppendWrites` (see `StorageEngine+AppendTail`); they belong at offset
    /// `appendTailOffset`.
    var appendTail: [UInt8] = []
    var appendTailOffset = 0
    /// Set while writing the append tail fails under `defersAppendWrites` (a full disk): the
    /// tail stays in memory, writes are refused with this error, and every attempt to write
    /// the tail tries again. Mirrored in an atomic for `observedSequenceToAwait`.
    var appendBlocked: StorageError? {
        didSet { appendBlockedAtomic.store(appendBlocked != nil, ordering: .releasing) }
    }
    let appendBlockedAtomic = Atomic<Bool>(false)
    /// Counters reported by `statistics` (the gauges are filled in on demand).
    var counters = StorageStatistics()
    /// An open that loads at least this many keys gives the allocator's free pages back (a
    /// trim walks every arena: not worth it for a small index).
    static let trimAfterOpenKeysMin = 1 << 16
    /// Hint writing or compaction of at least this many bytes of segments is followed by a
    /// trim of the allocator's free pages (their buffers are that order of size).
    static let trimAfterSegmentBytesMin = 8 << 20

    /// Hot values in memory; guarded by `condition` like the index.
    var valueCache: ValueCache
    /// Blocked clients waiting for writes to keys (see `waitForWrites`).
    var keyWaiters = KeyWaiters()
    /// Waiters a commit took out, woken by `writing` once the lock is released.
    var keyWaitersWoken: [KeyWaiters.Wake] = []
    /// True while the group-commit thread waits for a commit: only then must a commit wake it.
    /// Waking it (or anyone) on every commit made the event loops contend for the lock with
    /// sleeping threads.
    var groupCommitWaiting = false
    /// How many durability waiters there were when the last fsync ended, those it released
    /// included: the writers the next group commit expects (see `gatherCommitsLocked`).
    var waitersAtLastSync = 0
    /// True while an fsync of the active segment runs with the lock released, on the
    /// group-commit thread or on a caller of `syncOnCaller`: the other waits for it rather
    /// than start a second one.
    var syncInFlight = false
    /// The periodic threads (everysec, background) sleep on this, not on `condition`, so that
    /// commits never wake them; `close()` does.
    let sleepCondition = NSCondition()
    /// Set by `close()` under `sleepCondition`.
    var sleepersReleased = false

    /// What recovery found when the engine was opened. Set once before `open` returns.
    public internal(set) var recovery = RecoveryReport()

    init(directory: String, options: StorageOptions) {
        precondition(options.segmentBytesMax > 0, "segmentBytesMax \(options.segmentBytesMax)")
        precondition(
            options.keyBytesMax > 0 && options.keyBytesMax <= Int(UInt32.max),
            "keyBytesMax \(options.keyBytesMax) outside 1...UInt32.max")
        precondition(
            options.valueBytesMax >= 0 && options.valueBytesMax <= Int(UInt32.max),
            "valueBytesMax \(options.valueBytesMax) outside 0...UInt32.max")
        self.directory = directory
        self.options = options
        self.valueCache = ValueCache(bytesMax: options.valueCacheBytesMax)
    }

    deinit {
        try? close()
    }

    /// Opens the engine in `directory` (created when missing), recovering its contents: hint
    /// files for sealed segments, a full scan of the last segment, a torn tail cut, corruption
    /// reported. `nowMillis` decides which recovered versions have expired. Starts the
    /// durability thread of the fsync policy.
    public static func open(
        directory: String, options: StorageOptions, nowMillis: UInt64
    ) throws -> StorageEngine {
        try options.device.createDirectory(directory)
        let discarded = try discardInterruptedRestore(directory: directory, device: options.device)
        let engine = StorageEngine(directory: directory, options: options)
        try engine.recover(nowMillis: nowMillis)
        try engine.finishCollectionsAtOpen(nowMillis: nowMillis)
        // Building a big index read keys and hints into buffers that are free again now:
        // without this the allocator may keep their pages resident.
        if engine.index.count >= Self.trimAfterOpenKeysMin { cohort_release_free_memory() }
        engine.recovery.discardedInterruptedRestore = discarded
        engine.startPolicyThread()
        return engine
    }

    /// Runs `body` atomically with respect to every other transaction; its reads see all
    /// earlier commits (durable or not). When `body` returns, its writes are appended as one
    /// group that recovery applies all-or-nothing, then applied to the index. When `body`
    /// throws, nothing is written. Returns the body's result and the commit (nil when nothing
    /// was written).
    ///
    /// Inlinable so that callers specialize it: unspecialized, building the generic result
    /// tuple looked up its type metadata at run time on every write (3% of a server's time per
    /// SET). The work is in the non-generic `commitTransaction`.
    @inlinable
    public func transaction<R>(
        nowMillis: UInt64, _ body: (inout StorageTransaction) throws -> R
    ) throws -> (result: R, commit: Commit?) {
        var result: R?
        let commit = try commitTransaction(nowMillis: nowMillis) { result = try body(&$0) }
        guard let result else { preconditionFailure("transaction body did not run") }
        return (result, commit)
    }

    /// Runs `body` under the lock and commits what it wrote (see `transaction`).
    @usableFromInline
    func commitTransaction(
        nowMillis: UInt64, _ body: (inout StorageTransaction) throws -> Void
    ) throws -> Commit? {
        try writing {
            var transaction = StorageTransaction(engine: self, nowMillis: nowMillis)
            try body(&transaction)
            return try commitLocked(transaction, nowMillis: nowMillis)
        }
    }

    /// Runs a write under the lock once the engine is known writable. Without the background
    /// thread, then writes the hint files of any segments the write sealed (outside the lock);
    /// with it, leaves them to it: scanning a sealed 64 MiB segment takes a second, which
    /// must not stall the caller (a server's event loop).
    func writing<R>(_ body: () throws -> R) throws -> R {
        condition.lock()
        let result: R
        do {
            try checkWritableLocked()
            result = try body()
        } catch {
            condition.unlock()
            throw error
        }
        let writesHints = !backgroundStarted && !pendingHintSegments.isEmpty
        var woken: [KeyWaiters.Wake] = []
        if !keyWaitersWoken.isEmpty { swap(&woken, &keyWaitersWoken) }
        condition.unlock()
        for wake in woken { wake() }
        if writesHints { writePendingHints() }
        return result
    }

    /// The live value of the client's `key`, read from disk and checksum-verified; nil when
    /// absent, deleted or expired at `nowMillis`. A collection's value is its header.
    public func get(_ key: [UInt8], nowMillis: UInt64) throws -> StoredValue? {
        let key = EngineKey.user(key)
        condition.lock()
        guard !isClosed else {
            condition.unlock()
            throw StorageError.closed
        }
        guard let slot = index.slot(key), !slot.entry.metadata.isExpired(nowMillis: nowMillis)
        else {
            condition.unlock()
            return nil
        }
        let entry = slot.entry
        if let cached = valueCache.value(of: slot) {
            condition.unlock()
            return StoredValue(bytes: cached, metadata: entry.metadata)
        }
        let source = valueSourceLocked(for: entry)
        condition.unlock()
        let value = try Self.readValue(key: key, entry: entry, from: source, options: options)
        condition.lock()
        valueCache.insert(value.bytes, of: slot, readFrom: entry)
        condition.unlock()
        return value
    }

    /// Hints the CPU to bring the index memory that lookups of `keys` will read into its
    /// cache: a server calls it with the keys of a pipeline's requests before running them, so
    /// that their cache misses overlap instead of following one another. Changes nothing and
    /// promises nothing; a lookup is correct whether or not its key was prefetched.
    public func prefetch(_ keys: [[UInt8]]) {
        guard !keys.isEmpty else { return }
        condition.lock()
        defer { condition.unlock() }
        index.prefetch(keys)
    }

    /// Up to `count` of the clients' keys after `cursor` (a client's key; from the start when
    /// nil), in key order, returning the live, unexpired ones that `matching` accepts. `count`
    /// bounds the work, as in Redis SCAN: a page may hold fewer keys. `next` is the cursor for
    /// the following page, nil when the scan reached the end. Iterates a snapshot, so writes do
    /// not wait for it. Collection elements are never listed (their keys are internal).
    public func scan(
        after cursor: [UInt8]?, count: Int, nowMillis: UInt64,
        matching: (([UInt8]) -> Bool)? = nil
    ) -> (keys: [[UInt8]], next: [UInt8]?) {
        condition.lock()
        let tree = index.snapshotTree()
        condition.unlock()
        let examinedMax = max(count, 1)
        // Internal keys sort before every user key, so starting after them skips them all.
        var iterator = tree.makeIterator(
            after: cursor.map(EngineKey.user) ?? EngineKey.afterInternalKeys)
        var keys: [[UInt8]] = []
        var examined = 0
        var last: [UInt8]?
        while examined < examinedMax, let (engineKey, entry) = iterator.next() {
            examined += 1
            guard let key = EngineKey.userKey(engineKey) else { continue }
            last = key
            if entry.metadata.isTombstone || entry.metadata.isExpired(nowMillis: nowMillis) {
                continue
            }
            if let matching, !matching(key) { continue }
            keys.append(key)
        }
        let more = examined == examinedMax && iterator.next() != nil
        return (keys, more ? last : nil)
    }

    /// The clients' keys in the index (collection elements are not counted). Approximate: keys
    /// that expired but were not yet swept are counted.
    public var keyCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return index.count - index.internalCount
    }

    /// Deletes every key, durably: appends one "clear" record that recovery applies to every
    /// older version, and empties the index.
    public func flushAll() throws -> Commit {
        try flushAll(sequence: nil)
    }

    /// `flushAll()` under the next sequence or, for a replicated apply, the given one.
    func flushAll(sequence explicit: UInt64?) throws -> Commit {
        try writing {
            let sequence = explicit ?? lastSequence + 1
            let metadata = VersionMetadata(
                sequence: sequence, timestamp: clock.now(physicalMillis: clock.last.physicalMillis),
                origin: options.origin, isTombstone: false, type: .string, expiresAtMillis: 0)
            var buffer: [UInt8] = []
            RecordCodec.encode(
                key: [], value: [], metadata: metadata, isClear: true, groupRecords: 1,
                into: &buffer)
            _ = try appendLocked(buffer, sequence: sequence, deletes: true)
            clearIndexLocked()
            finishCommitLocked(sequence: sequence, records: 1)
            return Commit(sequence: sequence)
        }
    }

    /// Forgets every key after a clear record was appended. The caller holds `condition`.
    func clearIndexLocked() {
        index = KeyIndex()
        valueCache.removeAll()
        for id in segments.keys { segments[id]?.liveBytes = 0 }
    }

    /// A point-in-time view: iterate it in key order while writes continue. Values are read
    /// lazily; the segment files it needs stay open (and so keep their data) while it lives,
    /// even if compaction unlinks them. Expiry is judged at `nowMillis`.
    public func snapshot(nowMillis: UInt64) -> StorageSnapshot {
        condition.lock()
        defer { condition.unlock() }
        // The snapshot reads values from the files, outside the lock. When the tail cannot be
        // written (a full disk), the snapshot keeps a copy of it to read those records from.
        try? writeAppendTailLocked()
        return StorageSnapshot(
            index: index.snapshotTree(), files: segments.mapValues(\.file),
            pending: pendingRecordsLocked, nowMillis: nowMillis, sequence: lastSequence,
            options: options)
    }

    /// Current counters and gauges.
    public var statistics: StorageStatistics {
        condition.lock()
        defer { condition.unlock() }
        var result = counters
        result.diskBytes = segments.values.reduce(0) { $0 + $1.bytes }
        result.liveBytes = segments.values.reduce(0) { $0 + $1.liveBytes }
        result.segmentCount = segments.count
        result.keyCount = index.count
        result.lastSequence = lastSequence
        result.durableSequence = durableSequence
        result.appendBlockedReason = appendBlocked.map { "\($0)" }
        result.valueCacheHits = valueCache.hits
        result.valueCacheMisses = valueCache.misses
        result.valueCacheBytes = valueCache.bytes
        return result
    }

    /// Stops the engine's threads, fsyncs the active segment, completes waiting durability
    /// callbacks and closes the files (snapshots keep theirs). Idempotent. Do not call it from a
    /// durability callback.
    public func close() throws {
        condition.lock()
        guard !isClosed else {
            condition.unlock()
            return
        }
        isClosed = true
        isStopping = true
        condition.broadcast()
        sleepCondition.lock()
        sleepersReleased = true
        sleepCondition.broadcast()
        sleepCondition.unlock()
        // An fsync on a caller's thread (`syncOnCaller`) finishes before the files close.
        while runningThreads > 0 || syncInFlight { condition.wait() }
        let active = segments[activeID]?.file
        var syncError: StorageError?
        do throws(StorageError) {
            try writeAppendTailLocked()
            try cutPreallocationLocked()
        } catch {
            syncError = error
        }
        condition.unlock()
        do throws(StorageError) {
            if syncError == nil { try active?.sync() }
        } catch {
            syncError = error
        }
        condition.lock()
        if syncError == nil { settleSequencesLocked() }
        // A clean close leaves an index checkpoint so the next open need not decode every
        // record (see IndexCheckpoint). Only when everything is durable and nothing failed.
        let checkpoint =
            syncError == nil && failure == nil
            ? (index.snapshotTree(), segments, activeID, nextSegmentID, lastSequence, clock.last)
            : nil
        let waiters = durabilityWaiters
        durabilityWaiters.removeAll()
        let covered = durableSequence
        let closeFailure = failure
        segments.removeAll()
        // The index stays until the engine itself goes: freeing a million keys' entries one
        // by one took a second and more of a server's stop, for a process about to exit.
        condition.broadcast()
        condition.unlock()
        if let checkpoint {
            writeIndexCheckpoint(
                index: checkpoint.0, segments: checkpoint.1, activeID: checkpoint.2,
                nextSegmentID: checkpoint.3, lastSequence: checkpoint.4, clock: checkpoint.5)
        }
        for waiter in waiters {
            if waiter.sequence <= covered {
                waiter.completion(.success(()))
            } else {
                waiter.completion(.failure(closeFailure ?? syncError ?? .closed))
            }
        }
        if let syncError { throw syncError }
    }

    // MARK: - Internals (callers hold `condition`)

    func checkWritableLocked() throws(StorageError) {
        if isClosed { throw .closed }
        if let failure { throw failure }
        // Space may have come back: try again, and refuse with the error if it has not.
        if appendBlocked != nil { try writeAppendTailLocked() }
    }

    /// Reads (or copies from memory) and verifies the record of `entry`, returning its value.
    static func readValue(
        key: [UInt8], entry: IndexEntry, from source: ValueSource, options: StorageOptions
    ) throws(StorageError) -> StoredValue {
        switch source {
        case .memory(let record, let file):
            return try decodeValue(
                record, key: key, entry: entry, fileName: file.name, options: options)
        case .file(let file):
            return try readValue(key: key, entry: entry, file: file, options: options)
        }
    }

    /// Reads and verifies the record of `entry`, returning its value.
    static func readValue(
        key: [UInt8], entry: IndexEntry, file: SegmentFile, options: StorageOptions
    ) throws(StorageError) -> StoredValue {
        let bytes = try file.read(offset: Int(entry.offset), count: Int(entry.recordLength))
        return try decodeValue(bytes, key: key, entry: entry, fileName: file.name, options: options)
    }

    /// Verifies the record of `entry` (its bytes, read from `fileName` or from memory) and
    /// returns its value.
    static func decodeValue(
        _ bytes: [UInt8], key: [UInt8], entry: IndexEntry, fileName: String,
        options: StorageOptions
    ) throws(StorageError) -> StoredValue {
        let record: DecodedRecord
        do throws(RecordDecodeError) {
            record = try RecordCodec.decode(
                bytes, keyBytesMax: options.keyBytesMax, valueBytesMax: options.valueBytesMax)
        } catch {
            throw .corrupt(file: fileName, offset: Int(entry.offset), reason: error.description)
        }
        guard record.recordLength == bytes.count,
            record.metadata.sequence == entry.metadata.sequence,
            bytes[record.keyRange].elementsEqual(key)
        else {
            throw .corrupt(
                file: fileName, offset: Int(entry.offset),
                reason: "record does not match its index entry")
        }
        return StoredValue(bytes: Array(bytes[record.valueRange]), metadata: record.metadata)
    }

    /// Appends one group of encoded records to the active segment, rotating first when it would
    /// overflow. A failed write is cut back so the file ends with whole groups.
    func appendLocked(
        _ buffer: [UInt8], sequence: UInt64, deletes: Bool
    ) throws(StorageError) -> (segmentID: UInt32, offset: Int) {
        try appendLocked(bytes: buffer.count, sequence: sequence, deletes: deletes) {
            $0.append(contentsOf: buffer)
        }
    }

    /// Appends one group of records, `count` bytes that `encode` appends to the array it is
    /// given, to the active segment, rotating first when they would overflow it. With the append
    /// tail they are encoded straight into it; otherwise into the engine's append buffer, then
    /// written, and a failed write is cut back so the file ends with whole groups. Returns where
    /// the group starts. `deletes` says whether a record of the group acts as a deletion (see
    /// `SegmentState.mayHoldDeletions`).
    func appendLocked(
        bytes count: Int, sequence: UInt64, deletes: Bool, encode: (inout [UInt8]) -> Void
    ) throws(StorageError) -> (segmentID: UInt32, offset: Int) {
        precondition(
            sequence > lastSequence, "sequence \(sequence) not above last \(lastSequence)")
        // The active segment's state is reached through its position in the dictionary's
        // values: `segments[id]?.field += x` ran the dictionary's modify coroutine, which
        // allocated, and with the other accesses of a commit cost 5% of a pipelined SET.
        guard var position = segments.index(forKey: activeID) else {
            preconditionFailure("no active segment \(activeID)")
        }
        let size = segments.values[position].bytes
        if size > 0 && size + count > options.segmentBytesMax {
            try rotateLocked()
            guard let rotated = segments.index(forKey: activeID) else {
                preconditionFailure("no active segment \(activeID)")
            }
            position = rotated
        }
        let offset = segments.values[position].bytes
        if usesAppendTail {
            try prepareTailLocked(appending: count, at: offset)
            let before = appendTail.count
            encode(&appendTail)
            precondition(appendTail.count - before == count, "group encoded to another length")
            segments.values[position].recordAppend(
                bytes: count, sequence: sequence, deletes: deletes)
            return (activeID, offset)
        }
        var buffer = takeAppendBuffer()
        defer { returnAppendBuffer(&buffer) }
        encode(&buffer)
        precondition(buffer.count == count, "group encoded to another length")
        try writeCuttingBackLocked(buffer, to: segments.values[position].file, at: offset)
        segments.values[position].recordAppend(bytes: count, sequence: sequence, deletes: deletes)
        preallocateLocked(after: offset + count)
        return (activeID, offset)
    }

    /// Seals the active segment (after an fsync, so that a sealed segment never loses data) and
    /// starts a new one. Its hint file is written later, outside the lock.
    func rotateLocked() throws(StorageError) {
        guard let old = segments[activeID] else { preconditionFailure("no active segment") }
        try writeAppendTailLocked()
        do throws(StorageError) {
            try cutPreallocationLocked()
            try old.file.sync()
        } catch {
            failure = .failed("sealing \(old.file.name) at rotation failed: \(error)")
            throw failure ?? error
        }
        counters.fsyncCount += 1
        let file = try SegmentFile.open(
            directory: directory, id: nextSegmentID, kind: .appended, create: true,
            device: device)
        syncDirectory()
        segments[activeID]?.isSealed = true
        pendingHintSegments.append(activeID)
        activeID = nextSegmentID
        nextSegmentID += 1
        segments[activeID] = SegmentState(
            file: file, bytes: 0, isSealed: false, mayHoldDeletions: false)
    }

    /// Records that every commit is written and durable: after recovery, and after close's
    /// fsync.
    func settleSequencesLocked() {
        writtenSequence = lastSequence
        durableSequence = lastSequence
    }

    /// Bookkeeping shared by every commit.
    func finishCommitLocked(sequence: UInt64, records: Int) {
        lastSequence = sequence
        if appendTail.isEmpty { writtenSequence = sequence }
        counters.commitsTotal += 1
        counters.writesTotal += records
        // Nobody waits on commits: the group-commit thread waits for durability waiters (see
        // `whenDurable`).
    }

    /// Moves the live bytes of a replaced or removed entry out of its segment's account.
    func forgetLocked(_ entry: IndexEntry) {
        addLiveBytesLocked(-Int(entry.recordLength), to: entry.segmentID)
    }

    /// Adds `delta` to the live bytes of segment `id`, if it is in use (through the values
    /// view, for the reason given in `appendLocked`).
    @inline(__always)
    func addLiveBytesLocked(_ delta: Int, to id: UInt32) {
        guard let position = segments.index(forKey: id) else { return }
        segments.values[position].liveBytes += delta
    }

    /// The device the files live on (`StorageOptions.device`).
    var device: any StorageDevice { options.device }

    /// Makes renames and new files in the data directory durable. Best effort, as it always
    /// was: a failure is not reported.
    func syncDirectory() {
        try? device.syncDirectory(directory)
    }
}
