import Foundation
import Glibc

extension StorageEngine {
    /// Runs `completion` once `commit` is durable under the fsync policy: after the fsync that
    /// covers it for `.batch`; at once for `.everysec` and `.none`. It runs on the durability
    /// thread, or on the calling thread when the answer is already known (durable, failed or
    /// closed). After an fsync failure it receives the error.
    public func whenDurable(
        _ commit: Commit, _ completion: @escaping @Sendable (Result<Void, StorageError>) -> Void
    ) {
        guard options.fsync == .batch else {
            completion(.success(()))
            return
        }
        condition.lock()
        precondition(
            commit.sequence <= lastSequence,
            "commit \(commit.sequence) was never made (last \(lastSequence))")
        if commit.sequence <= durableSequence {
            condition.unlock()
            completion(.success(()))
            return
        }
        if let failure {
            condition.unlock()
            completion(.failure(failure))
            return
        }
        if isClosed {
            condition.unlock()
            completion(.failure(.closed))
            return
        }
        while durabilityWaiters.count >= Self.durabilityWaitersMax && !isStopping {
            // Nobody else could ever make room.
            precondition(
                usesThreads,
                "\(durabilityWaiters.count) durability waiters under inline background work:"
                    + " call runPendingSync()")
            condition.wait()
        }
        durabilityWaiters.append((commit.sequence, completion))
        // The group-commit thread sleeps while nobody waits.
        if groupCommitWaiting { condition.broadcast() }
        condition.unlock()
    }

    /// Under `.batch`, makes `sequence` durable on the calling thread, as Redis's event loop
    /// fsyncs its AOF before it replies (`appendfsync always`), and returns the outcome; nil
    /// when another fsync is in flight, and the caller should wait with `whenDurable`. The
    /// server's event loop calls it once per turn for every write the turn ran: handing the
    /// fsync to the group-commit thread cost two thread wake-ups and a gathering pause per
    /// group, a tenth of a group's time when fsync takes a millisecond. Waiters of
    /// `whenDurable` that the fsync covers are completed too, on this thread.
    public func syncOnCaller(through sequence: UInt64) -> Result<Void, StorageError>? {
        guard options.fsync == .batch else { return .success(()) }
        condition.lock()
        precondition(
            sequence <= lastSequence, "commit \(sequence) was never made (last \(lastSequence))")
        if sequence <= durableSequence {
            condition.unlock()
            return .success(())
        }
        if let failure {
            condition.unlock()
            return .failure(failure)
        }
        if isClosed {
            condition.unlock()
            return .failure(.closed)
        }
        if syncInFlight {
            condition.unlock()
            return nil
        }
        syncInFlight = true
        let ready = syncActiveLocked()
        syncInFlight = false
        let outcome: Result<Void, StorageError> =
            sequence <= durableSequence
            ? .success(()) : .failure(failure ?? .failed("fdatasync did not cover \(sequence)"))
        condition.unlock()
        for (waiter, result) in ready { waiter.completion(result) }
        return outcome
    }

    /// Starts the thread the fsync policy needs: the group-commit thread for `.batch`, the
    /// once-a-second thread for `.everysec`.
    func startPolicyThread() {
        guard usesThreads else { return }
        switch options.fsync {
        case .batch:
            startThread(name: "cohort-fsync") { [self] in runGroupCommitLoop() }
        case .everysec:
            startThread(name: "cohort-everysec") { [self] in runEverySecondLoop() }
        case .none:
            break
        }
    }

    /// Starts the background thread: active expiry sweep, compaction trigger, pending hint
    /// files. Idempotent. Under `StorageBackgroundWork.inline` it starts no thread: the
    /// caller runs that work with `runPendingBackgroundWork(nowMillis:)`, which from then on
    /// writes the hint files of sealed segments (instead of the write that sealed them).
    public func startBackgroundWork() {
        condition.lock()
        guard !backgroundStarted && !isClosed else {
            condition.unlock()
            return
        }
        backgroundStarted = true
        condition.unlock()
        guard usesThreads else { return }
        startThread(name: "cohort-compact") { [self] in
            // Compaction and hint files yield the CPU to serving (see BackgroundPriority).
            BackgroundPriority.lowerCurrentThread()
            runBackgroundLoop()
        }
    }

    func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
        condition.lock()
        runningThreads += 1
        condition.unlock()
        let thread = Thread { [self] in
            BackgroundPriority.nameCurrentThread(name)
            body()
            condition.lock()
            runningThreads -= 1
            condition.broadcast()
            condition.unlock()
        }
        thread.name = name
        thread.start()
    }

    /// Group commit: wait for written but unsynced commits, fsync once, complete every waiter
    /// the fsync covers. Commits arriving during an fsync go into the next one.
    func runGroupCommitLoop() {
        condition.lock()
        while true {
            // Sleeps while nobody waits: a commit nobody waits for need not be synced yet (the
            // server's event loops ask once per turn for all of their writes). A waiter always
            // waits for a commit not yet durable (whenDurable answers the others at once).
            while !isStopping && durabilityWaiters.isEmpty {
                groupCommitWaiting = true
                condition.wait()
                groupCommitWaiting = false
            }
            if isStopping { break }
            if let failure {
                let waiters = durabilityWaiters
                durabilityWaiters.removeAll()
                condition.unlock()
                for waiter in waiters { waiter.completion(.failure(failure)) }
                condition.lock()
                continue
            }
            // A caller's fsync (`syncOnCaller`) may cover these waiters already.
            while syncInFlight && !isStopping { condition.wait() }
            if isStopping { break }
            if durabilityWaiters.isEmpty { continue }
            gatherCommitsLocked()
            syncInFlight = true
            let ready = syncActiveLocked()
            syncInFlight = false
            condition.unlock()
            for (waiter, result) in ready { waiter.completion(result) }
            condition.lock()
        }
        condition.unlock()
    }

    /// Before an fsync, lets a burst of commits finish arriving so that one fsync covers them
    /// all: the event loops run a whole batch of requests at a time, and an fsync started on
    /// the first commit of a batch would leave the rest waiting for a second one.
    ///
    /// Waits while new commits keep arriving within `groupCommitQuietMicros`, and while fewer
    /// writers wait than waited when the last fsync ended (`waitersAtLastSync`): the writers
    /// it released are expected back. Without that second rule, closed-loop clients split into
    /// two cohorts, one waiting for the fsync in flight while the other's replies travel, and
    /// every fsync covered half of them. Never waits longer in total than half the last
    /// fsync's latency (bounded by `groupCommitGatherMicrosMax`), so a lone writer, or writers
    /// that do not come back, pay little. Called and returns with `condition` held.
    func gatherCommitsLocked() {
        let gatherMicrosMax = min(
            Self.groupCommitGatherMicrosMax, counters.lastFsyncLatencyMicros / 2)
        guard gatherMicrosMax > 0 else { return }
        let started = monotonicMicros()
        var seen = lastSequence
        while !isStopping {
            condition.unlock()
            usleep(Self.groupCommitQuietMicros)
            condition.lock()
            if monotonicMicros() - started >= gatherMicrosMax { return }
            let arriving = lastSequence != seen
            seen = lastSequence
            if !arriving && durabilityWaiters.count >= waitersAtLastSync { return }
        }
    }

    /// The longest a group commit waits for more commits before its fsync.
    static let groupCommitGatherMicrosMax: UInt64 = 2_000
    /// A pause this long with no new commit ends the gathering.
    static let groupCommitQuietMicros: UInt32 = 50

    /// Sleeps `millis` milliseconds, or less when `close()` releases the sleepers. Called
    /// without `condition` held.
    func sleepPeriod(millis: Int) {
        let deadline = Date(timeIntervalSinceNow: Double(millis) / 1_000)
        sleepCondition.lock()
        while !sleepersReleased && Date() < deadline {
            _ = sleepCondition.wait(until: deadline)
        }
        sleepCondition.unlock()
    }

    /// `.everysec`: fsync once a second when something was written.
    func runEverySecondLoop() {
        condition.lock()
        while !isStopping {
            condition.unlock()
            sleepPeriod(millis: 1_000)
            condition.lock()
            if isStopping { break }
            if failure == nil && lastSequence > durableSequence {
                _ = syncActiveLocked()
            }
        }
        condition.unlock()
    }

    /// Fsyncs the active segment with the lock released, then records the outcome and returns
    /// the waiters it settles. Called and returns with `condition` held.
    func syncActiveLocked() -> [(DurabilityWaiter, Result<Void, StorageError>)] {
        guard let file = segments[activeID]?.file else { return [] }
        var syncError: StorageError?
        do throws(StorageError) {
            // Under the lock: commits wait for this one write of the whole tail, which saves
            // each of them a write of its own. If it fails under `.batch`, the engine has
            // failed already; with deferred appends the tail waits in memory (writes are
            // blocked) and the fsync covers what the file holds.
            try writeAppendTailLocked()
        } catch {
            if failure != nil { syncError = error }
        }
        let target = writtenSequence
        if syncError == nil {
            let delay = fsyncDelayMicrosForTesting
            let injectFailure = fsyncFailureForTesting
            fsyncFailureForTesting = false
            // Inline work reads no clock (it would make a simulation's statistics differ from
            // run to run) and never sleeps; the latency it reports is zero.
            let timed = usesThreads
            condition.unlock()
            // The simulated slow disk's delay counts as fsync latency, as a slow disk's would.
            let started = timed ? monotonicMicros() : 0
            if delay > 0 && timed { usleep(delay) }
            do throws(StorageError) {
                if injectFailure { throw .io(errno: EIO, operation: "fdatasync \(file.name)") }
                try file.sync()
            } catch {
                syncError = error
            }
            let latency = timed ? monotonicMicros() - started : 0
            condition.lock()
            counters.fsyncCount += 1
            counters.lastFsyncLatencyMicros = latency
            counters.fsyncLatencyMicrosMax = max(counters.fsyncLatencyMicrosMax, latency)
        }
        var ready: [(DurabilityWaiter, Result<Void, StorageError>)] = []
        if let syncError {
            // fsyncgate: the kernel may have dropped the dirty pages; never retry and report
            // success. Refuse writes until a restart recovers from what is on disk. (A failed
            // tail write has set `failure` already.)
            let failed = failure ?? StorageError.failed("fdatasync failed: \(syncError)")
            failure = failed
            ready = durabilityWaiters.map { ($0, .failure(failed)) }
            durabilityWaiters.removeAll()
        } else {
            durableSequence = max(durableSequence, target)
            precondition(
                durableSequence <= lastSequence,
                "durable \(durableSequence) above last \(lastSequence)")
            waitersAtLastSync = durabilityWaiters.count
            ready = durabilityWaiters.filter { $0.sequence <= target }.map { ($0, .success(())) }
            durabilityWaiters.removeAll { $0.sequence <= target }
        }
        condition.broadcast()
        return ready
    }

    /// Background period: sweep expired keys, compact when a segment qualifies, write hints.
    func runBackgroundLoop() {
        condition.lock()
        while !isStopping {
            condition.unlock()
            sleepPeriod(millis: options.backgroundIntervalMillis)
            condition.lock()
            if isStopping { break }
            // Deferred appends the server has not written yet (or could not: a full disk)
            // wait no longer than a period.
            if options.defersAppendWrites && options.fsync != .batch {
                try? writeAppendTailLocked()
            }
            condition.unlock()
            runBackgroundPeriod(nowMillis: Self.wallClockMillis())
            condition.lock()
        }
        condition.unlock()
    }

    /// The rest of one background period's work, called without `condition` held: the expiry
    /// sweep, pending hint files, and compaction when a segment qualifies. Returns the
    /// compaction's report when one ran.
    @discardableResult
    func runBackgroundPeriod(nowMillis now: UInt64) -> CompactionReport? {
        sweepExpired(nowMillis: now, keysMax: options.expirySweepKeysMax)
        writePendingHints()
        if options.compactsAutomatically && hasCompactionCandidate() {
            return try? compact(nowMillis: now)
        }
        return nil
    }

    /// Removes expired keys and orphaned collection elements (see `EngineKey`) from the index,
    /// examining at most `keysMax` entries from where the previous call stopped. Writes
    /// nothing: the expired record itself acts as the deletion at recovery, and an orphan is
    /// an orphan again there. Returns how many keys were removed.
    @discardableResult
    public func sweepExpired(nowMillis: UInt64, keysMax: Int) -> Int {
        condition.lock()
        defer { condition.unlock() }
        guard !isClosed else { return 0 }
        var expired: [[UInt8]] = []
        var reachedEnd = false
        do {
            var iterator = index.makeIterator(after: sweepCursor)
            var examined = 0
            var last: [UInt8]?
            var lastHeader: (prefix: [UInt8], isLive: Bool)?
            while examined < max(keysMax, 1) {
                guard let (key, entry) = iterator.next() else {
                    reachedEnd = true
                    break
                }
                examined += 1
                last = key
                if entry.metadata.isExpired(nowMillis: nowMillis) {
                    expired.append(key)
                } else if EngineKey.isInternal(key)
                    && isOrphanLocked(key, nowMillis: nowMillis, lastHeader: &lastHeader)
                {
                    // An element of a deleted, replaced or expired collection: never read
                    // again, and at recovery an orphan again (so no deletion marker either).
                    expired.append(key)
                }
            }
            sweepCursor = reachedEnd ? nil : last
        }
        for key in expired {
            if let removed = index.remove(key) { forgetLocked(removed) }
        }
        counters.expiredKeysSwept += expired.count
        return expired.count
    }

    /// Milliseconds since the Unix epoch from the system clock.
    static func wallClockMillis() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return UInt64(time.tv_sec) * 1000 + UInt64(time.tv_nsec) / 1_000_000
    }

    /// Microseconds of a monotonic clock, for latencies.
    func monotonicMicros() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000 + UInt64(time.tv_nsec) / 1000
    }
}
