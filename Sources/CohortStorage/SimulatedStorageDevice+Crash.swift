extension SimulatedStorageDevice {
    /// The machine loses power: every change not yet durable is dropped, except that, per
    /// file, with probability `keepsUnsyncedPrefixProbability` an ordered prefix of its
    /// unsynced changes survives, the last of them (when a write) torn at a random byte.
    /// Creations, renames and removals not made durable by a directory sync are undone. Handles
    /// opened before fail from now on; open the engine or store again to recover. Every random
    /// choice is drawn from `random`, in the order of the files' names.
    public func crash(
        random: inout some RandomNumberGenerator, keepsUnsyncedPrefixProbability: Double = 0.5
    ) {
        state.withLock { state in
            state.epoch += 1
            state.statistics.crashes += 1
            let names = Set(state.entries.keys).union(state.durableEntries.keys)
            state.statistics.directoryChangesLost +=
                names.count { state.entries[$0] != state.durableEntries[$0] }
            var survivors: [Int: SimulatedInode] = [:]
            for name in state.durableEntries.keys.sorted() {
                let id = state.durableEntries[name]!
                guard survivors[id] == nil, var inode = state.inodes[id] else { continue }
                Self.settle(
                    &inode, random: &random, keepProbability: keepsUnsyncedPrefixProbability,
                    statistics: &state.statistics)
                survivors[id] = inode
            }
            state.inodes = survivors
            state.entries = state.durableEntries
            state.scheduledFaults.removeAll()
        }
    }

    /// What a crash leaves of one file: its durable contents, perhaps with a torn prefix of
    /// its unsynced changes.
    private static func settle(
        _ inode: inout SimulatedInode, random: inout some RandomNumberGenerator,
        keepProbability: Double, statistics: inout SimulatedStorageStatistics
    ) {
        let changes = inode.unsynced
        inode.unsynced.removeAll()
        inode.openHandles = 0
        func isWrite(_ change: SimulatedInode.Change) -> Bool {
            if case .write = change { true } else { false }
        }
        if !changes.isEmpty && Double.random(in: 0..<1, using: &random) < keepProbability {
            let kept = Int.random(in: 1...changes.count, using: &random)
            for change in changes[..<(kept - 1)] {
                SimulatedInode.apply(change, to: &inode.durable)
            }
            statistics.unsyncedWritesKept += changes[..<(kept - 1)].count(where: isWrite)
            switch changes[kept - 1] {
            case .write(let offset, let bytes):
                let cut = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
                // Nothing of it, not even a longer file, when cut before its first byte.
                if cut > 0 { inode.durable.replace(at: offset, with: bytes[..<cut]) }
                statistics.tornWrites += 1
            case .truncate(let length):
                inode.durable.resize(to: length)
            }
            statistics.unsyncedWritesLost += changes[kept...].count(where: isWrite)
        } else {
            statistics.unsyncedWritesLost += changes.count(where: isWrite)
        }
        inode.current = inode.durable
    }
}
