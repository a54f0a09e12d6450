/// Everything a ``SimulatedStorageDevice`` holds, guarded by its lock.
struct SimulatedStorageState {
    /// Files by inode number; a removed file lives on while a handle or a durable entry
    /// refers to it.
    var inodes: [Int: SimulatedInode] = [:]
    var nextInodeID = 1
    /// The names as the engine sees them, and as a crash would leave them.
    var entries: [String: Int] = [:]
    var durableEntries: [String: Int] = [:]
    /// Directories, durable at once.
    var directories: Set<String> = []
    /// Bumped by every crash: handles opened before it fail from then on.
    var epoch = 0
    var capacityBytes: Int?
    /// Faults scheduled by `failNext`, in the order they were asked for.
    var scheduledFaults: [SimulatedStorageFault] = []
    var faultHook: (@Sendable (SimulatedStorageDevice.Operation, String) -> Int32?)?
    var statistics = SimulatedStorageStatistics()

    /// Bytes all files hold now.
    var bytesUsed: Int { inodes.values.reduce(0) { $0 + $1.current.count } }

    /// Forgets inode `id` when no name, durable name or open handle refers to it any more.
    mutating func collect(_ id: Int) {
        guard let inode = inodes[id], inode.openHandles == 0 else { return }
        if entries.values.contains(id) || durableEntries.values.contains(id) { return }
        inodes[id] = nil
    }
}

/// One file of a ``SimulatedStorageDevice``: what a crash would leave, what reads see, and
/// the changes in between, in the order they were made.
struct SimulatedInode {
    /// A change not yet covered by a successful sync.
    enum Change {
        case write(offset: Int, bytes: [UInt8])
        case truncate(length: Int)
    }

    var durable: [UInt8] = []
    var current: [UInt8] = []
    var unsynced: [Change] = []
    var openHandles = 0

    mutating func write(_ bytes: [UInt8], at offset: Int) {
        current.replace(at: offset, with: bytes)
        unsynced.append(.write(offset: offset, bytes: bytes))
    }

    mutating func truncate(to length: Int) {
        current.resize(to: length)
        unsynced.append(.truncate(length: length))
    }

    /// Applies `change` to `bytes`.
    static func apply(_ change: Change, to bytes: inout [UInt8]) {
        switch change {
        case .write(let offset, let written): bytes.replace(at: offset, with: written)
        case .truncate(let length): bytes.resize(to: length)
        }
    }
}

/// A failure scheduled by ``SimulatedStorageDevice/failNext(_:path:count:errno:)``.
struct SimulatedStorageFault {
    var operation: SimulatedStorageDevice.Operation
    /// Only operations on a path containing this (nil: any path).
    var pathFragment: String?
    var remaining: Int
    var errno: Int32
}

/// Counters of a ``SimulatedStorageDevice``, for a simulator's report.
public struct SimulatedStorageStatistics: Sendable, Hashable {
    /// Writes to files (whole calls).
    public var writes = 0
    /// Successful file syncs.
    public var syncs = 0
    /// Directory syncs.
    public var directorySyncs = 0
    /// Crashes.
    public var crashes = 0
    /// Unsynced writes a crash kept whole.
    public var unsyncedWritesKept = 0
    /// Unsynced writes a crash dropped.
    public var unsyncedWritesLost = 0
    /// Unsynced writes a crash kept a part of (the last of a kept prefix).
    public var tornWrites = 0
    /// Unsynced writes a failed sync took off the way to the disk.
    public var writesDroppedByFailedSync = 0
    /// Creations, renames and removals a crash undid (their directory was not synced).
    public var directoryChangesLost = 0
    /// Operations failed on purpose (scheduled or by the hook).
    public var faultsInjected = 0

    /// No counts.
    public init() {}
}
