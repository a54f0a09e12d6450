import Glibc

extension SimulatedStorageDevice {
    /// Makes the next `count` calls of `operation` fail with `errno` (a write's ENOSPC becomes
    /// ``StorageError/diskFull``), only on paths containing `path` when given. Scheduled
    /// faults are used in the order they were asked for.
    public func failNext(
        _ operation: Operation, path: String? = nil, count: Int = 1, errno: Int32 = EIO
    ) {
        precondition(count > 0, "failNext count \(count)")
        state.withLock {
            $0.scheduledFaults.append(
                SimulatedStorageFault(
                    operation: operation, pathFragment: path, remaining: count, errno: errno))
        }
    }

    /// Drops every scheduled fault.
    public func clearScheduledFaults() {
        state.withLock { $0.scheduledFaults.removeAll() }
    }

    /// Sets the function asked before each operation (with its path) whether it fails: it
    /// returns the errno to fail with, or nil. The simulator draws from its seeded generator
    /// there. Called without the device's lock held; it must not call the device.
    public func setFaultHook(_ hook: (@Sendable (Operation, String) -> Int32?)?) {
        state.withLock { $0.faultHook = hook }
    }

    /// Throws the fault scheduled for, or chosen by the hook for, `operation` on `path`.
    func injectFault(_ operation: Operation, path: String) throws(StorageError) {
        let (scheduled, hook) = state.withLock { state in
            var chosen: Int32?
            if let position = state.scheduledFaults.firstIndex(where: {
                $0.operation == operation
                    && ($0.pathFragment.map { path.contains($0) } ?? true)
            }) {
                chosen = state.scheduledFaults[position].errno
                state.scheduledFaults[position].remaining -= 1
                if state.scheduledFaults[position].remaining == 0 {
                    state.scheduledFaults.remove(at: position)
                }
            }
            return (chosen, state.faultHook)
        }
        guard let code = scheduled ?? hook?(operation, path) else { return }
        state.withLock { $0.statistics.faultsInjected += 1 }
        let name = "\(operation) \(path) (injected)"
        throw operation == .write
            ? .writeFailure(errno: code, operation: name)
            : .io(errno: code, operation: name)
    }
}
