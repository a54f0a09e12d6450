/// Every file operation of the storage engine and the Raft log store, so that both run over
/// the machine's file system (``POSIXStorageDevice``) or over a disk in memory that a
/// simulator can crash and make fail (``SimulatedStorageDevice``).
///
/// Paths are absolute or relative strings as the engine builds them (`directory + "/" + name`).
/// Failures are ``StorageError`` values the engine already handles: `.io(errno:operation:)` for
/// a failed call (EIO, ENOENT, EEXIST keep their errno), `.diskFull` for a write that found no
/// space.
///
/// Durability follows POSIX: a file's data is durable once ``StorageFileHandle/sync()`` returns;
/// a creation, rename or removal once ``syncDirectory(_:)`` of its directory returns.
public protocol StorageDevice: AnyObject, Sendable {
    /// Opens the file at `path` in `mode`. A missing file fails with ENOENT (unless `mode`
    /// creates it), an existing one under ``StorageFileMode/createNew`` with EEXIST.
    func open(_ path: String, mode: StorageFileMode) throws(StorageError) -> any StorageFileHandle
    /// Creates the directory `path` and any missing parents; nothing when it exists.
    func createDirectory(_ path: String) throws(StorageError)
    /// The names in directory `path` (without `.` and `..`), sorted, so that nothing depends
    /// on the order a file system lists them in.
    func contentsOfDirectory(_ path: String) throws(StorageError) -> [String]
    /// Renames `source` to `destination` (in the same directory), replacing it atomically.
    func rename(_ source: String, to destination: String) throws(StorageError)
    /// Removes the file `path`; a missing one fails with ENOENT. Open handles keep working.
    func remove(_ path: String) throws(StorageError)
    /// Makes the creations, renames and removals in directory `path` durable.
    func syncDirectory(_ path: String) throws(StorageError)
}

/// How ``StorageDevice/open(_:mode:)`` opens a file.
public enum StorageFileMode: Sendable, Hashable {
    /// Reading an existing file.
    case read
    /// Reading and writing an existing file.
    case readWrite
    /// Reading and writing a file that must not exist yet (`O_CREAT | O_EXCL`).
    case createNew
    /// Writing a file created, or emptied when it exists (`O_CREAT | O_TRUNC`).
    case replace
}

/// An open file of a ``StorageDevice``. Positional: no call moves a shared offset, so reads
/// may run on other threads while one writer appends. The file closes when the last
/// reference goes (readers and snapshots keep a removed file readable until then).
public protocol StorageFileHandle: AnyObject, Sendable {
    /// Reads up to `buffer.count` bytes at `offset` into `buffer`; returns how many, 0 at the
    /// end of the file.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(StorageError)
        -> Int
    /// Writes all of `bytes` at `offset`. On failure some prefix may have been written.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError)
    /// The current length of the file.
    func size() throws(StorageError) -> Int
    /// Cuts (or extends with zeroes) the file to `length` bytes.
    func truncate(to length: Int) throws(StorageError)
    /// Makes the file's data (and the length it needs) durable: `fdatasync`.
    func sync() throws(StorageError)
    /// Runs `body` over the file's first `length` bytes (at most its length), read-only.
    func withMappedBytes<R>(
        length: Int, _ body: (UnsafeRawBufferPointer) throws(StorageError) -> R
    ) throws(StorageError) -> R
}
