/// Who runs a ``StorageEngine``'s durability and background work.
public enum StorageBackgroundWork: Sendable, Hashable {
    /// The engine's own threads: the group-commit thread under `.batch`, the once-a-second
    /// thread under `.everysec`, the background thread after
    /// ``StorageEngine/startBackgroundWork()``, and a second thread for the sorts and index
    /// builds of a restart (see `ParallelWork`). The default, and what a server uses.
    case threads
    /// The caller's thread, only when it asks: the engine starts no thread, reads no clock and
    /// never sleeps. Waiters of ``StorageEngine/whenDurable(_:_:)`` are settled by the fsync of
    /// ``StorageEngine/runPendingSync()`` (or ``StorageEngine/syncOnCaller(through:)``), and
    /// expiry sweeps, hint files and compaction run in
    /// ``StorageEngine/runPendingBackgroundWork(nowMillis:)``. For a deterministic simulator,
    /// which runs a whole cluster on one thread and decides itself when each step happens.
    case inline
}
