import Glibc
import Synchronization

/// A disk in memory for a deterministic simulator: the real ``StorageEngine`` and
/// ``RaftLogStore`` run over it, and the simulator crashes it and makes its calls fail, all
/// decided by its seed. No clock, thread, file or unseeded random number is used; one lock
/// makes it safe to share with the engine's threads, but a simulator runs it on one thread.
///
/// Durability model (POSIX's promise, stricter than ext4 `data=ordered` in practice):
/// - Each file has durable contents and, in order, the writes and truncations made since its
///   last successful ``StorageFileHandle/sync()``. Reads see all of them.
/// - ``crash(random:keepsUnsyncedPrefixProbability:)`` drops every unsynced change; with the
///   given probability it keeps, per file, an ordered prefix of them, the last write torn at a
///   random byte (a write the disk was in the middle of). Files flush independently.
/// - A creation, rename or removal is durable only once its directory is synced
///   (``StorageDevice/syncDirectory(_:)``); a crash before that undoes it. A file whose
///   creation is undone is gone with its data, synced or not. Directories themselves are
///   durable at once (the engine creates its directory once, before anything else).
/// - A failed sync ("fsyncgate" on Linux) drops the file's unsynced changes from the way to
///   the disk: they stay readable, but no later sync makes them durable.
///
/// Faults: ``failNext(_:path:count:errno:)`` schedules failures of an operation, and
/// ``setFaultHook(_:)`` lets the simulator decide each call. A write that fails with ENOSPC
/// (or passes ``capacityBytes``) surfaces as ``StorageError/diskFull``, as on a real disk.
public final class SimulatedStorageDevice: StorageDevice {
    let state = Mutex(SimulatedStorageState())

    /// An empty disk, optionally holding at most `capacityBytes` of file contents.
    public init(capacityBytes: Int? = nil) {
        state.withLock { $0.capacityBytes = capacityBytes }
    }

    /// The operations that faults can be injected into.
    public enum Operation: Sendable, Hashable, CaseIterable {
        case open, read, write, truncate, sync, syncDirectory, rename, remove, list
        case createDirectory
    }

    /// What the device did so far (for a simulator's report).
    public var statistics: SimulatedStorageStatistics { state.withLock { $0.statistics } }

    /// The most bytes all files may hold together (nil: no bound); a write beyond it fails
    /// as on a full disk.
    /// The bytes all files hold together now.
    public var bytesUsed: Int { state.withLock { $0.bytesUsed } }

    public var capacityBytes: Int? {
        get { state.withLock { $0.capacityBytes } }
        set { state.withLock { $0.capacityBytes = newValue } }
    }

    /// The current contents of the file at `path` (unsynced changes included), or nil.
    public func contents(of path: String) -> [UInt8]? {
        state.withLock { state in state.entries[path].flatMap { state.inodes[$0]?.current } }
    }

    /// The contents of the file at `path` a crash now would leave without any unsynced change
    /// kept, or nil when the file would not exist then.
    public func durableContents(of path: String) -> [UInt8]? {
        state.withLock { state in state.durableEntries[path].flatMap { state.inodes[$0]?.durable } }
    }

    /// Replaces the bytes at `offset` of the file at `path`, durably and without counting as a
    /// write: damage that a simulator puts on the disk (bit rot, a misdirected write).
    public func damage(_ path: String, at offset: Int, with bytes: [UInt8]) {
        state.withLock { state in
            guard let id = state.entries[path] else { preconditionFailure("no file \(path)") }
            state.inodes[id]?.durable.replace(at: offset, with: bytes)
            state.inodes[id]?.current.replace(at: offset, with: bytes)
        }
    }

    public func open(
        _ path: String, mode: StorageFileMode
    ) throws(StorageError) -> any StorageFileHandle {
        try injectFault(.open, path: path)
        let (id, epoch) = try state.withLock { (state) throws(StorageError) -> (Int, Int) in
            guard state.directories.contains(Self.parent(of: path)) else {
                throw .io(errno: ENOENT, operation: "open \(path)")
            }
            if let existing = state.entries[path] {
                if mode == .createNew { throw .io(errno: EEXIST, operation: "open \(path)") }
                if mode == .replace { state.inodes[existing]?.truncate(to: 0) }
                state.inodes[existing]?.openHandles += 1
                return (existing, state.epoch)
            }
            if mode == .read || mode == .readWrite {
                throw .io(errno: ENOENT, operation: "open \(path)")
            }
            let id = state.nextInodeID
            state.nextInodeID += 1
            state.inodes[id] = SimulatedInode(openHandles: 1)
            state.entries[path] = id
            return (id, state.epoch)
        }
        return SimulatedStorageFile(
            device: self, inode: id, epoch: epoch, path: path, isWritable: mode != .read)
    }

    public func createDirectory(_ path: String) throws(StorageError) {
        try injectFault(.createDirectory, path: path)
        state.withLock { state in
            var directory = Self.normalized(path)
            while !directory.isEmpty && state.directories.insert(directory).inserted {
                directory = Self.parent(of: directory)
            }
        }
    }

    public func contentsOfDirectory(_ path: String) throws(StorageError) -> [String] {
        try injectFault(.list, path: path)
        let directory = Self.normalized(path)
        return try state.withLock { (state) throws(StorageError) -> [String] in
            guard state.directories.contains(directory) else {
                throw .io(errno: ENOENT, operation: "list \(path)")
            }
            let files = state.entries.keys.filter { Self.parent(of: $0) == directory }
            let subdirectories = state.directories.filter {
                $0 != directory && Self.parent(of: $0) == directory
            }
            return (files + subdirectories).map(Self.name(of:)).sorted()
        }
    }

    public func rename(_ source: String, to destination: String) throws(StorageError) {
        try injectFault(.rename, path: source)
        try state.withLock { (state) throws(StorageError) in
            guard let id = state.entries[source] else {
                throw .io(errno: ENOENT, operation: "rename \(source)")
            }
            let replaced = state.entries[destination]
            state.entries[source] = nil
            state.entries[destination] = id
            if let replaced { state.collect(replaced) }
        }
    }

    public func remove(_ path: String) throws(StorageError) {
        try injectFault(.remove, path: path)
        try state.withLock { (state) throws(StorageError) in
            guard let id = state.entries.removeValue(forKey: path) else {
                throw .io(errno: ENOENT, operation: "unlink \(path)")
            }
            state.collect(id)
        }
    }

    public func syncDirectory(_ path: String) throws(StorageError) {
        try injectFault(.syncDirectory, path: path)
        let directory = Self.normalized(path)
        try state.withLock { (state) throws(StorageError) in
            guard state.directories.contains(directory) else {
                throw .io(errno: ENOENT, operation: "open \(path)")
            }
            state.statistics.directorySyncs += 1
            let names = Set(state.entries.keys).union(state.durableEntries.keys)
            var released: [Int] = []
            for name in names where Self.parent(of: name) == directory {
                if let old = state.durableEntries[name], old != state.entries[name] {
                    released.append(old)
                }
                state.durableEntries[name] = state.entries[name]
            }
            for id in released { state.collect(id) }
        }
    }

    /// `path` without trailing slashes.
    static func normalized(_ path: String) -> String {
        var path = Substring(path)
        while path.count > 1 && path.hasSuffix("/") { path = path.dropLast() }
        return String(path)
    }

    /// The directory holding `path` ("" for a bare name, "/" for a top-level one).
    static func parent(of path: String) -> String {
        let path = normalized(path)
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of `path`.
    static func name(of path: String) -> String {
        let path = normalized(path)
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

extension [UInt8] {
    /// Writes `bytes` at `offset`, extending with zeroes when the array is shorter.
    mutating func replace(at offset: Int, with bytes: some Collection<UInt8>) {
        if count < offset { append(contentsOf: repeatElement(0, count: offset - count)) }
        let end = offset + bytes.count
        if count < end { append(contentsOf: repeatElement(0, count: end - count)) }
        replaceSubrange(offset..<end, with: bytes)
    }

    /// Cuts or extends with zeroes to `length` bytes.
    mutating func resize(to length: Int) {
        if length < count {
            removeSubrange(length...)
        } else {
            append(contentsOf: repeatElement(0, count: length - count))
        }
    }
}
