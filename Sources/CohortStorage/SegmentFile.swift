/// An open segment file. Reference-counted: readers and snapshots that hold it keep the file
/// open (through its device's handle) even after compaction has unlinked it, and the handle
/// closes when the last holder lets go.
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
    /// The open file on the engine's or the store's device.
    let handle: any StorageFileHandle

    private init(id: UInt32, kind: Kind, directory: String, handle: any StorageFileHandle) {
        self.id = id
        self.kind = kind
        self.name = Self.fileName(id: id, kind: kind, suffix: "log")
        self.path = directory + "/" + name
        self.hintPath = directory + "/" + Self.fileName(id: id, kind: kind, suffix: "hint")
        self.handle = handle
    }

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

    /// Opens (creating when asked) the segment `id` in `directory` on `device`.
    static func open(
        directory: String, id: UInt32, kind: Kind, create: Bool, device: any StorageDevice
    ) throws(StorageError) -> SegmentFile {
        let path = directory + "/" + fileName(id: id, kind: kind, suffix: "log")
        let handle = try device.open(path, mode: create ? .createNew : .readWrite)
        return SegmentFile(id: id, kind: kind, directory: directory, handle: handle)
    }

    /// The current size of the file.
    func size() throws(StorageError) -> Int {
        try handle.size()
    }

    /// Reads exactly `count` bytes at `offset`.
    func read(offset: Int, count: Int) throws(StorageError) -> [UInt8] {
        var failure: StorageError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let result: Int
                do throws(StorageError) {
                    result = try handle.read(
                        into: UnsafeMutableRawBufferPointer(
                            start: buffer.baseAddress! + done, count: count - done),
                        at: offset + done)
                } catch {
                    failure = error
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

    /// Writes all of `bytes` at `offset`. On failure some prefix may have been written; the
    /// caller truncates back.
    func write(_ bytes: [UInt8], at offset: Int) throws(StorageError) {
        // `withUnsafeBytes` does not pass typed errors on.
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(StorageError) in try handle.write(raw, at: offset) }
        }
        try result.get()
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
        try handle.truncate(to: length)
    }

    /// Forces the file's data to stable storage.
    func sync() throws(StorageError) {
        try handle.sync()
    }

    /// Runs `body` over the first `length` bytes mapped read-only.
    func withMappedBytes<R>(
        length: Int, _ body: (UnsafeRawBufferPointer) throws(StorageError) -> R
    ) throws(StorageError) -> R {
        try handle.withMappedBytes(length: length, body)
    }
}
