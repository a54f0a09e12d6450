import Foundation
import Glibc

/// The few file operations of ``RaftLogStore`` beyond ``SegmentFile``: whole-file atomic
/// replacement, whole-file reads, directory listing and directory sync.
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
        let path = directory + "/" + name
        let temporary = path + ".tmp"
        let descriptor = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io(errno: errno, operation: "open \(temporary)") }
        var failure: StorageError?
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let result = Glibc.write(descriptor, raw.baseAddress! + done, raw.count - done)
                if result < 0 {
                    if errno == EINTR { continue }
                    failure =
                        errno == ENOSPC || errno == EDQUOT
                        ? .diskFull : .io(errno: errno, operation: "write \(temporary)")
                    return
                }
                done += result
            }
        }
        if failure == nil, fdatasync(descriptor) != 0 {
            failure = .io(errno: errno, operation: "fdatasync \(temporary)")
        }
        Glibc.close(descriptor)
        if failure == nil, rename(temporary, path) != 0 {
            failure = .io(errno: errno, operation: "rename \(temporary)")
        }
        if let failure {
            unlink(temporary)
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
