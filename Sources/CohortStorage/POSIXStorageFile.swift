import Glibc

/// A file descriptor of ``POSIXStorageDevice``, closed when the last reference goes. Each call
/// is the one system call it names (retried on EINTR), with no lock and no allocation: the
/// append and fdatasync of every commit go through here.
final class POSIXStorageFile: StorageFileHandle {
    let descriptor: Int32
    /// Named in errors.
    let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    static func open(_ path: String, mode: StorageFileMode) throws(StorageError) -> POSIXStorageFile
    {
        let flags: Int32
        switch mode {
        case .read: flags = O_RDONLY | O_CLOEXEC
        case .readWrite: flags = O_RDWR | O_CLOEXEC
        case .createNew: flags = O_RDWR | O_CLOEXEC | O_CREAT | O_EXCL
        case .replace: flags = O_WRONLY | O_CLOEXEC | O_CREAT | O_TRUNC
        }
        let descriptor = Glibc.open(path, flags, 0o644)
        guard descriptor >= 0 else { throw .io(errno: errno, operation: "open \(path)") }
        return POSIXStorageFile(descriptor: descriptor, path: path)
    }

    func read(
        into buffer: UnsafeMutableRawBufferPointer, at offset: Int
    ) throws(StorageError) -> Int {
        while true {
            let result = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
            if result >= 0 { return result }
            if errno != EINTR { throw .io(errno: errno, operation: "pread \(path)") }
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) {
        var done = 0
        while done < bytes.count {
            let result = pwrite(
                descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if result < 0 {
                if errno == EINTR { continue }
                throw StorageError.writeFailure(errno: errno, operation: "pwrite \(path)")
            }
            done += result
        }
    }

    func size() throws(StorageError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw .io(errno: errno, operation: "fstat \(path)")
        }
        return Int(info.st_size)
    }

    func truncate(to length: Int) throws(StorageError) {
        guard ftruncate(descriptor, off_t(length)) == 0 else {
            throw .io(errno: errno, operation: "ftruncate \(path)")
        }
    }

    func sync() throws(StorageError) {
        guard fdatasync(descriptor) == 0 else {
            throw .io(errno: errno, operation: "fdatasync \(path)")
        }
    }

    func withMappedBytes<R>(
        length: Int, _ body: (UnsafeRawBufferPointer) throws(StorageError) -> R
    ) throws(StorageError) -> R {
        guard length > 0 else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let address = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, 0),
            address != MAP_FAILED
        else { throw .io(errno: errno, operation: "mmap \(path)") }
        defer { munmap(address, length) }
        return try body(UnsafeRawBufferPointer(start: address, count: length))
    }
}
