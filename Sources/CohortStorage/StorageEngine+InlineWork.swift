/// The work of the engine's threads, run by the caller under `StorageBackgroundWork.inline`
/// (a simulator, which decides when each step happens and runs everything on one thread).
extension StorageEngine {
    /// Whether the engine runs its work on threads of its own (`StorageOptions.backgroundWork`).
    var usesThreads: Bool { options.backgroundWork == .threads }

    /// What the policy's thread would do next, now, on the calling thread: under `.batch` and
    /// `.everysec`, writes the append tail and fdatasyncs the active segment when a commit is
    /// not yet durable, and completes the ``whenDurable(_:_:)`` waiters that fsync covers (or,
    /// after a failure, every waiter, with the error). Nothing under `.none`. Succeeds when
    /// every commit made before the call is durable; otherwise returns why not (the failure
    /// that leaves the engine refusing writes, or a blocked deferred append).
    @discardableResult
    public func runPendingSync() -> Result<Void, StorageError> {
        precondition(!usesThreads, "runPendingSync() needs StorageBackgroundWork.inline")
        guard options.fsync != .none else { return .success(()) }
        condition.lock()
        if isClosed {
            condition.unlock()
            return .failure(.closed)
        }
        var ready: [(DurabilityWaiter, Result<Void, StorageError>)] = []
        let target = lastSequence
        if let failure {
            ready = durabilityWaiters.map { ($0, .failure(failure)) }
            durabilityWaiters.removeAll()
        } else if target > durableSequence || !durabilityWaiters.isEmpty {
            ready = syncActiveLocked()
        }
        // Deferred appends that could not be written (a full disk) stay out of the fsync.
        let outcome: Result<Void, StorageError> =
            durableSequence >= target
            ? .success(())
            : .failure(failure ?? appendBlocked ?? .failed("fdatasync did not cover \(target)"))
        condition.unlock()
        for (waiter, result) in ready { waiter.completion(result) }
        return outcome
    }

    /// One period of the background thread, now, on the calling thread: deferred appends are
    /// written, expired keys swept (judged at `nowMillis`), pending hint files written, and a
    /// compaction run when a segment qualifies (with `StorageOptions.compactsAutomatically`).
    /// Returns the compaction's report when one ran; a failed compaction is not reported, as
    /// the background thread does not report it (``compact(nowMillis:)`` called directly
    /// throws).
    @discardableResult
    public func runPendingBackgroundWork(nowMillis: UInt64) -> CompactionReport? {
        precondition(
            !usesThreads, "runPendingBackgroundWork(nowMillis:) needs StorageBackgroundWork.inline")
        condition.lock()
        if isClosed {
            condition.unlock()
            return nil
        }
        if options.defersAppendWrites && options.fsync != .batch {
            try? writeAppendTailLocked()
        }
        condition.unlock()
        return runBackgroundPeriod(nowMillis: nowMillis)
    }
}
