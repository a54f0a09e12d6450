/// Waiting for writes to keys (see `KeyWaiters`): the engine wakes a waiter after the commit,
/// apply or restore that wrote one of its keys, so that a blocked command can try again.
extension StorageEngine {
    /// Calls `wake` once, on the committing thread and after the engine's lock is released,
    /// when a write to any of the clients' `keys` is committed (by this node or replicated to
    /// it) or the whole state is restored from a snapshot. `wake` must not block; it usually
    /// hands the retry to the waiter's own thread. Returns the id to stop waiting with.
    public func waitForWrites(
        to keys: [[UInt8]], wake: @escaping @Sendable () -> Void
    ) -> KeyWaiterID {
        condition.lock()
        defer { condition.unlock() }
        return KeyWaiterID(rawValue: keyWaiters.add(keys: keys.map(EngineKey.user), wake: wake))
    }

    /// Stops waiter `id` (nothing when it was woken already).
    public func stopWaiting(_ id: KeyWaiterID) {
        condition.lock()
        defer { condition.unlock() }
        keyWaiters.remove(id.rawValue)
    }

    /// Clients waiting for writes, for status and tests.
    public var keyWaiterCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return keyWaiters.count
    }

    /// Takes out the waiters of the engine keys a commit put; the caller holds `condition`
    /// and wakes them once it has released it.
    func takeWaitersLocked(of keys: some Sequence<[UInt8]>) -> [KeyWaiters.Wake] {
        var woken: [KeyWaiters.Wake] = []
        for key in keys where !EngineKey.isInternal(key) {
            keyWaiters.take(writtenKey: key, into: &woken)
        }
        return woken
    }
}

/// A registration made with `StorageEngine.waitForWrites`.
public struct KeyWaiterID: Hashable, Sendable {
    let rawValue: UInt64
}
