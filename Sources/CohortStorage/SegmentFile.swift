import Glibc

/// An open segment file. Reference-counted: readers and snapshots that hold it keep the file
/// descriptor open even after compaction has unlinked the file, and the descriptor closes when
/// the last holder lets go.
final class SegmentFile: @unchecked Sendable {
    /// Appended segments receive transactions; compacted ones are written whole by compaction.
    enum Kind: Sendable {
        case appended
        case compacted
    }

    let id: UInt32
    let kind: Kind
    /// File name within the data directory.
    let name: String
    /// Full path of the segment.
    let path: String
    /// Full path of its hint file.
    let hintPath: String
    let descriptor: Int32

    private init(id: UInt32, kind: Kind, directory: String, descriptor: Int32) {
        self.id = id
        self.kind = kind
        self.name = Self.fileName(id: id, kind: kind, suffix: "log")
        self.path = directory + "/" + name
        self.hintPath = directory + "/" + Self.fileName(id: id, kind: kind, suffix: "hint")
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// `seg-000001.log`, `cmp-000002.hint`, …: ids share one counter across kinds.
    static func fileName(id: UInt32, kind: Kind, suffix: String) -> String {
        let digits = String(id)
        let padded = String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        return (kind == .appended ? "seg-" : "cmp-") + padded + "." + suffix
    }

    /// Parses a segment or hint file name.
    static func parse(fileName: String) -> (id: UInt32, kind: Kind, suffix: String)? {
        let kind: Kind
        if fileName.hasPrefix("seg-") {
            kind = .appended
        } else if fileName.hasPrefix("cmp-") {
            kind = .compacted
        } else {
            return nil
        }
        let rest = fileName.dropFirst(4)
        guard let dot = rest.firstIndex(of: "."), let id = UInt32(rest[rest.startIndex..<dot])
        else { return nil }
        return (id, kind, String(rest[rest.index(after: dot)...]))
    }

    /// Opens (creating when asked) the segment `id` in `directory`.
    static func open(
        directory: String, id: UInt32, kind: Kind, create: Bool
    ) throws(StorageError) -> SegmentFile {
        let path = directory + "/" + fileName(id: id, kind: kind, suffix: "log")
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0)
        let descriptor = Glibc.open(path, flags, 0o644)
        guard descriptor >= 0 else { throw .io(errno: errno, operation: "open \(path)") }
        return SegmentFile(id: id, kind: kind, directory: directory, descriptor: descriptor)
    }

    /// The current size of the file.
    func size() throws(StorageError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw .io(errno: errno, operation: "fstat \(name)")
        }
        return Int(info.st_size)
    }

    /// Reads exactly `count` bytes at `offset` with pread.
    func read(offset: Int, count: Int) throws(StorageError) -> [UInt8] {
        var failure: StorageError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let result = pread(
                    descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if result < 0 {
                    if errno == EINTR { continue }
                    failure = .io(errno: errno, operation: "pread \(name)")
                    break
                }
                if result == 0 {
                    failure = .corrupt(
                        file: name, offset: offset, reason: "record extends past end of file")
                    break
                }
                done += result
            }
            initialized = failure == nil ? count : 0
        }
        if let failure { throw failure }
        return bytes
    }

    /// Writes all of `bytes` at `offset` with pwrite. On failure some prefix may have been
    /// written; the caller truncates back.
    func write(_ bytes: [UInt8], at offset: Int) throws(StorageError) {
        var failure: StorageError?
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let result = pwrite(
                    descriptor, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
                if result < 0 {
                    if errno == EINTR { continue }
                    failure =
                        errno == ENOSPC || errno == EDQUOT
                        ? .diskFull : .io(errno: errno, operation: "pwrite \(name)")
                    return
                }
                done += result
            }
        }
        if let failure { throw failure }
    }

    /// Preallocation shared by the storage engine and the Raft log: after an append that ends at
    /// `end`, writes zeroes from `start` (where the file's bytes end) through `end` plus up to
    /// `step` more, within `limit`. An fdatasync of records later written over them need not
    /// commit a new file size or new blocks. Returns where the file's bytes end now.
    func writeZeroes(from start: Int, aheadOf end: Int, step: Int, limit: Int)
        throws(StorageError) -> Int
    {
        let target = max(end, min(end + step, limit))
        guard target > start else { return start }
        try write([UInt8](repeating: 0, count: target - start), at: start)
        return target
    }

    /// Cuts the file to `length` bytes.
    func truncate(to length: Int) throws(StorageError) {
        guard ftruncate(descriptor, off_t(length)) == 0 else {
            throw .io(errno: errno, operation: "ftruncate \(name)")
        }
    }

    /// Forces the file's data to stable storage.
    func sync() throws(StorageError) {
        guard fdatasync(descriptor) == 0 else {
            throw .io(errno: errno, operation: "fdatasync \(name)")
        }
    }

    /// Runs `body` over the first `length` bytes mapped read-only.
    func withMappedBytes<R>(
        length: Int, _ body: (UnsafeRawBufferPointer) throws(StorageError) -> R
    ) throws(StorageError) -> R {
        guard length > 0 else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let address = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, 0),
            address != MAP_FAILED
        else { throw .io(errno: errno, operation: "mmap \(name)") }
        defer { munmap(address, length) }
        return try body(UnsafeRawBufferPointer(start: address, count: length))
    }
}
