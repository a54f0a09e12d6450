import Foundation
import Glibc

/// The few file operations of ``RaftLogStore`` beyond ``SegmentFile``: whole-file atomic
/// replacement, whole-file reads, directory listing and directory sync. The storage engine
/// (hints, index checkpoint) and ``DurableFile`` replace their files through it too.
enum RaftLogFileSystem {
    /// Creates `directory` (and its parents) when missing.
    static func createDirectory(_ directory: String) throws(StorageError) {
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(errno: errno, operation: "create directory \(directory)")
        }
    }

    /// The names in `directory`, sorted (so that nothing depends on the listing's order).
    static func list(_ directory: String) throws(StorageError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw .io(errno: errno, operation: "list \(directory)")
        }
    }

    /// The whole contents of `path`, or nil when it does not exist.
    static func read(_ path: String) throws(StorageError) -> [UInt8]? {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw .io(errno: errno, operation: "open \(path)")
        }
        defer { Glibc.close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes {
                Glibc.read(descriptor, $0.baseAddress!, $0.count)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(errno: errno, operation: "read \(path)")
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    /// Replaces `name` in `directory` with `bytes` so that a crash leaves either the old or
    /// the new contents: write a temporary file, fdatasync it, rename it over `name`, fsync
    /// the directory. A leftover temporary file is removed by the next open.
    static func writeAtomically(
        _ bytes: [UInt8], name: String, directory: String
    ) throws(StorageError) {
        try writeAtomically(name: name, directory: directory, syncEvery: syncedChunkBytes) {
            (write) throws(StorageError) in try hand(bytes, to: write)
        }
    }

    /// `writeAtomically` of the bytes `produce` hands over in order (see
    /// ``writeDurably(name:directory:syncEvery:_:)``): for a file too large to build in memory
    /// first, such as the index checkpoint.
    static func writeAtomically(
        name: String, directory: String, syncEvery: Int?,
        _ produce: ((UnsafeRawBufferPointer) throws(StorageError) -> Void) throws(StorageError)
            -> Void
    ) throws(StorageError) {
        let temporary = name + ".tmp"
        try writeDurably(name: temporary, directory: directory, syncEvery: syncEvery, produce)
        try publish(temporary, as: name, directory: directory)
    }

    /// A large file is synced every this many bytes as it is written, so that its dirty pages
    /// never pile up for one long flush that the Raft log's fdatasyncs would wait behind.
    static let syncedChunkBytes = 1 << 20

    /// Writes `bytes` to `name` in `directory` (replacing it) and fdatasyncs it; the first
    /// half of an atomic replacement, which ``publish(_:as:directory:)`` completes. A failed
    /// write leaves no file behind. Touches nothing but that file, so it may run on any thread.
    static func writeDurably(
        _ bytes: [UInt8], name: String, directory: String
    ) throws(StorageError) {
        try writeDurably(name: name, directory: directory, syncEvery: syncedChunkBytes) {
            (write) throws(StorageError) in try hand(bytes, to: write)
        }
    }

    /// Hands `bytes` to `write` in one piece (`withUnsafeBytes` does not pass typed errors on).
    private static func hand(
        _ bytes: [UInt8], to write: (UnsafeRawBufferPointer) throws(StorageError) -> Void
    ) throws(StorageError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(StorageError) in try write(raw) }
        }
        try result.get()
    }

    /// Writes to `name` in `directory` (replacing it) the bytes that `produce` hands to the
    /// function it is given, in order, and fdatasyncs the file; with `syncEvery`, also each
    /// time that many more bytes are written. A failure, of a write or of `produce`, leaves no
    /// file behind.
    static func writeDurably(
        name: String, directory: String, syncEvery: Int?,
        _ produce: ((UnsafeRawBufferPointer) throws(StorageError) -> Void) throws(StorageError)
            -> Void
    ) throws(StorageError) {
        let path = directory + "/" + name
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io(errno: errno, operation: "open \(path)") }
        var written = 0
        var synced = 0
        func writeAll(_ raw: UnsafeRawBufferPointer) throws(StorageError) {
            var done = 0
            while done < raw.count {
                let unsynced = syncEvery.map { $0 - (written - synced) } ?? Int.max
                let result = Glibc.write(
                    descriptor, raw.baseAddress! + done, min(raw.count - done, unsynced))
                if result < 0 {
                    if errno == EINTR { continue }
                    throw errno == ENOSPC || errno == EDQUOT
                        ? .diskFull : .io(errno: errno, operation: "write \(path)")
                }
                done += result
                written += result
                if let syncEvery, written - synced >= syncEvery {
                    guard fdatasync(descriptor) == 0 else {
                        throw .io(errno: errno, operation: "fdatasync \(path)")
                    }
                    synced = written
                }
            }
        }
        do throws(StorageError) {
            try produce(writeAll)
            guard fdatasync(descriptor) == 0 else {
                throw .io(errno: errno, operation: "fdatasync \(path)")
            }
        } catch {
            Glibc.close(descriptor)
            unlink(path)
            throw error
        }
        Glibc.close(descriptor)
    }

    /// Renames the durable file `temporary` over `name` and fsyncs the directory, so that a
    /// crash leaves either the old or the new contents under `name`.
    static func publish(
        _ temporary: String, as name: String, directory: String
    ) throws(StorageError) {
        guard rename(directory + "/" + temporary, directory + "/" + name) == 0 else {
            let failure = StorageError.io(errno: errno, operation: "rename \(temporary)")
            unlink(directory + "/" + temporary)
            throw failure
        }
        try syncDirectory(directory)
    }

    /// Removes `name` from `directory` (the caller syncs the directory afterwards).
    static func remove(_ name: String, directory: String) throws(StorageError) {
        guard unlink(directory + "/" + name) == 0 || errno == ENOENT else {
            throw .io(errno: errno, operation: "unlink \(name)")
        }
    }

    /// Makes creations, renames and removals in `directory` durable.
    static func syncDirectory(_ directory: String) throws(StorageError) {
        let descriptor = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io(errno: errno, operation: "open \(directory)") }
        defer { Glibc.close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw .io(errno: errno, operation: "fsync \(directory)")
        }
    }
}
