/// Callbacks waiting for a write to one of a few keys: how a client blocked in BLPOP learns
/// that a list it waits on may have an element now, whatever wrote it (a local command, a
/// replicated apply, a snapshot restore). A waiter is woken once and forgotten; a client still
/// blocked after its retry registers again. Guarded by the engine's lock.
struct KeyWaiters {
    typealias Wake = @Sendable () -> Void

    private var byKey: [[UInt8]: [UInt64]] = [:]
    private var waiters: [UInt64: (keys: [[UInt8]], wake: Wake)] = [:]
    private var nextID: UInt64 = 1

    var isEmpty: Bool { waiters.isEmpty }
    var count: Int { waiters.count }

    /// Registers `wake` for a write to any of `keys` (engine keys).
    mutating func add(keys: [[UInt8]], wake: @escaping Wake) -> UInt64 {
        let id = nextID
        nextID += 1
        waiters[id] = (keys, wake)
        for key in keys { byKey[key, default: []].append(id) }
        return id
    }

    /// Forgets waiter `id`; nothing when it was woken already.
    mutating func remove(_ id: UInt64) {
        guard let waiter = waiters.removeValue(forKey: id) else { return }
        for key in waiter.keys {
            guard var ids = byKey[key] else { continue }
            ids.removeAll { $0 == id }
            byKey[key] = ids.isEmpty ? nil : ids
        }
    }

    /// Takes the waiters of `key` (in the order they registered) out, for the caller to wake.
    mutating func take(writtenKey key: [UInt8], into woken: inout [Wake]) {
        guard let ids = byKey[key] else { return }
        for id in ids {
            guard let waiter = waiters[id] else { continue }
            woken.append(waiter.wake)
            remove(id)
        }
    }

    /// Takes every waiter out (the whole state was replaced).
    mutating func takeAll(into woken: inout [Wake]) {
        for id in waiters.keys.sorted() { woken.append(waiters[id]!.wake) }
        waiters.removeAll()
        byKey.removeAll()
    }
}
