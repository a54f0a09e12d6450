import Glibc

extension DurableFile {
    /// Appends `bytes` to `directory/name` (creating it) and fdatasyncs it; a file it created
    /// is made durable in the directory too. When this returns, the bytes survive a crash. A
    /// failed append is cut off again (best effort) so that the next one does not continue a
    /// torn line, and reported: out of space as ``StorageError/diskFull``, anything else as
    /// ``StorageError/io(errno:operation:)``.
    public static func append(
        _ bytes: [UInt8], name: String, directory: String
    ) throws(StorageError) {
        let path = directory + "/" + name
        var created = false
        var descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        if descriptor < 0 && errno == ENOENT {
            descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            created = descriptor >= 0
        }
        guard descriptor >= 0 else { throw .io(errno: errno, operation: "open \(path)") }
        defer { Glibc.close(descriptor) }
        let sizeBefore = lseek(descriptor, 0, SEEK_END)
        guard sizeBefore >= 0 else { throw .io(errno: errno, operation: "seek \(path)") }
        var done = 0
        while done < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                Glibc.write(descriptor, raw.baseAddress! + done, raw.count - done)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let failure: StorageError =
                    errno == ENOSPC || errno == EDQUOT
                    ? .diskFull : .io(errno: errno, operation: "write \(path)")
                _ = ftruncate(descriptor, sizeBefore)
                throw failure
            }
            done += result
        }
        // After a failed fdatasync the kernel may have dropped the pages, so the state of
        // the file is unknown: report it and let the caller decide (never retry and trust).
        guard fdatasync(descriptor) == 0 else {
            throw .io(errno: errno, operation: "fdatasync \(path)")
        }
        if created {
            try RaftLogFileSystem.syncDirectory(directory, device: POSIXStorageDevice.shared)
        }
    }
}
