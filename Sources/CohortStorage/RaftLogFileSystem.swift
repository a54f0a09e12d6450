import Glibc

/// The few file operations of ``RaftLogStore`` beyond ``SegmentFile``: whole-file atomic
/// replacement, whole-file reads, directory listing and directory sync, over a
/// ``StorageDevice``. The storage engine (hints, index checkpoint) and ``DurableFile`` replace
/// their files through it too.
enum RaftLogFileSystem {
    /// Creates `directory` (and its parents) when missing.
    static func createDirectory(
        _ directory: String, device: any StorageDevice
    ) throws(StorageError) {
        try device.createDirectory(directory)
    }

    /// The names in `directory`, sorted (so that nothing depends on the listing's order).
    static func list(_ directory: String, device: any StorageDevice) throws(StorageError)
        -> [String]
    {
        try device.contentsOfDirectory(directory)
    }

    /// The whole contents of `path`, or nil when it does not exist.
    static func read(_ path: String, device: any StorageDevice) throws(StorageError) -> [UInt8]? {
        let file: any StorageFileHandle
        do throws(StorageError) {
            file = try device.open(path, mode: .read)
        } catch {
            if case .io(ENOENT, _) = error { return nil }
            throw error
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try chunk.withUnsafeMutableBytes { raw in
                Result { () throws(StorageError) in try file.read(into: raw, at: bytes.count) }
            }.get()
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    /// Replaces `name` in `directory` with `bytes` so that a crash leaves either the old or
    /// the new contents: write a temporary file, fdatasync it, rename it over `name`, fsync
    /// the directory. A leftover temporary file is removed by the next open.
    static func writeAtomically(
        _ bytes: [UInt8], name: String, directory: String, device: any StorageDevice
    ) throws(StorageError) {
        try writeAtomically(
            name: name, directory: directory, syncEvery: syncedChunkBytes, device: device
        ) { (write) throws(StorageError) in try hand(bytes, to: write) }
    }

    /// `writeAtomically` of the bytes `produce` hands over in order (see
    /// ``writeDurably(name:directory:syncEvery:device:_:)``): for a file too large to build in
    /// memory first, such as the index checkpoint.
    static func writeAtomically(
        name: String, directory: String, syncEvery: Int?, device: any StorageDevice,
        _ produce: ((UnsafeRawBufferPointer) throws(StorageError) -> Void) throws(StorageError)
            -> Void
    ) throws(StorageError) {
        let temporary = name + ".tmp"
        try writeDurably(
            name: temporary, directory: directory, syncEvery: syncEvery, device: device, produce)
        try publish(temporary, as: name, directory: directory, device: device)
    }

    /// A large file is synced every this many bytes as it is written, so that its dirty pages
    /// never pile up for one long flush that the Raft log's fdatasyncs would wait behind.
    static let syncedChunkBytes = 1 << 20

    /// Writes `bytes` to `name` in `directory` (replacing it) and fdatasyncs it; the first
    /// half of an atomic replacement, which ``publish(_:as:directory:device:)`` completes. A
    /// failed write leaves no file behind. Touches nothing but that file, so it may run on any
    /// thread.
    static func writeDurably(
        _ bytes: [UInt8], name: String, directory: String, device: any StorageDevice
    ) throws(StorageError) {
        try writeDurably(
            name: name, directory: directory, syncEvery: syncedChunkBytes, device: device
        ) { (write) throws(StorageError) in try hand(bytes, to: write) }
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
        name: String, directory: String, syncEvery: Int?, device: any StorageDevice,
        _ produce: ((UnsafeRawBufferPointer) throws(StorageError) -> Void) throws(StorageError)
            -> Void
    ) throws(StorageError) {
        let path = directory + "/" + name
        let file = try device.open(path, mode: .replace)
        var written = 0
        var synced = 0
        func writeAll(_ raw: UnsafeRawBufferPointer) throws(StorageError) {
            var done = 0
            while done < raw.count {
                let unsynced = syncEvery.map { $0 - (written - synced) } ?? Int.max
                let count = min(raw.count - done, unsynced)
                try file.write(
                    UnsafeRawBufferPointer(rebasing: raw[done..<done + count]), at: written)
                done += count
                written += count
                if let syncEvery, written - synced >= syncEvery {
                    try file.sync()
                    synced = written
                }
            }
        }
        do throws(StorageError) {
            try produce(writeAll)
            try file.sync()
        } catch {
            try? device.remove(path)
            throw error
        }
    }

    /// Renames the durable file `temporary` over `name` and fsyncs the directory, so that a
    /// crash leaves either the old or the new contents under `name`.
    static func publish(
        _ temporary: String, as name: String, directory: String, device: any StorageDevice
    ) throws(StorageError) {
        do throws(StorageError) {
            try device.rename(directory + "/" + temporary, to: directory + "/" + name)
        } catch {
            try? device.remove(directory + "/" + temporary)
            throw error
        }
        try syncDirectory(directory, device: device)
    }

    /// Removes `name` from `directory` (the caller syncs the directory afterwards).
    static func remove(
        _ name: String, directory: String, device: any StorageDevice
    ) throws(StorageError) {
        do throws(StorageError) {
            try device.remove(directory + "/" + name)
        } catch {
            if case .io(ENOENT, _) = error { return }
            throw error
        }
    }

    /// Makes creations, renames and removals in `directory` durable.
    static func syncDirectory(
        _ directory: String, device: any StorageDevice
    ) throws(StorageError) {
        try device.syncDirectory(directory)
    }
}
