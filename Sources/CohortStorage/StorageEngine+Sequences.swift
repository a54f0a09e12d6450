extension StorageEngine {
    /// The highest committed sequence and the highest durable one, read together under the
    /// engine's lock. The network shell uses them on every reply, so this is one lock and no
    /// allocation (cheaper than `statistics`).
    public var sequences: (committed: UInt64, durable: UInt64) {
        condition.lock()
        defer { condition.unlock() }
        return (lastSequence, durableSequence)
    }
}
