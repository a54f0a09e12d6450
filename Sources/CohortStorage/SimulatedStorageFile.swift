import Glibc

/// An open file of a ``SimulatedStorageDevice``. After a crash it fails every call with EIO:
/// the process that held it is gone, and nothing it does may reach the recovered disk.
final class SimulatedStorageFile: StorageFileHandle {
    let device: SimulatedStorageDevice
    let inode: Int
    let epoch: Int
    let path: String
    let isWritable: Bool

    init(device: SimulatedStorageDevice, inode: Int, epoch: Int, path: String, isWritable: Bool) {
        self.device = device
        self.inode = inode
        self.epoch = epoch
        self.path = path
        self.isWritable = isWritable
    }

    deinit {
        device.state.withLock { state in
            guard state.epoch == epoch else { return }
            state.inodes[inode]?.openHandles -= 1
            state.collect(inode)
        }
    }

    /// Runs `body` on this file's inode under the device's lock, unless a crash came between.
    private func withInode<R>(
        _ operation: String,
        _ body: (inout SimulatedInode, inout SimulatedStorageState) throws(StorageError) -> R
    ) throws(StorageError) -> R {
        try device.state.withLock { (state) throws(StorageError) -> R in
            guard state.epoch == epoch, var inode = state.inodes[inode] else {
                throw .io(errno: EIO, operation: "\(operation) \(path) (opened before a crash)")
            }
            defer { state.inodes[self.inode] = inode }
            return try body(&inode, &state)
        }
    }

    func read(
        into buffer: UnsafeMutableRawBufferPointer, at offset: Int
    ) throws(StorageError) -> Int {
        try device.injectFault(.read, path: path)
        return try withInode("pread") { (inode, _) throws(StorageError) -> Int in
            let count = max(0, min(buffer.count, inode.current.count - offset))
            guard count > 0 else { return 0 }
            inode.current.withUnsafeBytes { bytes in
                buffer.copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
            }
            return count
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) {
        guard isWritable else { throw .io(errno: EBADF, operation: "pwrite \(path)") }
        try device.injectFault(.write, path: path)
        try withInode("pwrite") { (inode, state) throws(StorageError) in
            let growth = max(0, offset + bytes.count - inode.current.count)
            if let capacity = state.capacityBytes, growth > 0, state.bytesUsed + growth > capacity {
                throw .diskFull
            }
            inode.write(Array(bytes), at: offset)
            state.statistics.writes += 1
        }
    }

    func size() throws(StorageError) -> Int {
        try withInode("fstat") { (inode, _) throws(StorageError) -> Int in inode.current.count }
    }

    func truncate(to length: Int) throws(StorageError) {
        guard isWritable else { throw .io(errno: EBADF, operation: "ftruncate \(path)") }
        try device.injectFault(.truncate, path: path)
        try withInode("ftruncate") { (inode, _) throws(StorageError) in inode.truncate(to: length) }
    }

    func sync() throws(StorageError) {
        do throws(StorageError) {
            try device.injectFault(.sync, path: path)
        } catch {
            // fsyncgate: the changes stay readable but are never written.
            try withInode("fdatasync") { (inode, state) throws(StorageError) in
                state.statistics.writesDroppedByFailedSync += inode.unsynced.count {
                    if case .write = $0 { true } else { false }
                }
                inode.unsynced.removeAll()
            }
            throw error
        }
        try withInode("fdatasync") { (inode, state) throws(StorageError) in
            for change in inode.unsynced { SimulatedInode.apply(change, to: &inode.durable) }
            inode.unsynced.removeAll()
            state.statistics.syncs += 1
        }
    }

    func withMappedBytes<R>(
        length: Int, _ body: (UnsafeRawBufferPointer) throws(StorageError) -> R
    ) throws(StorageError) -> R {
        try device.injectFault(.read, path: path)
        // A copy, so that `body` runs without the device's lock.
        let bytes = try withInode("mmap") { (inode, _) throws(StorageError) -> [UInt8] in
            guard length <= inode.current.count else {
                throw .io(errno: EINVAL, operation: "mmap \(path) beyond its end")
            }
            return Array(inode.current.prefix(length))
        }
        return try bytes.withUnsafeBytes { raw in
            Result { () throws(StorageError) -> R in try body(raw) }
        }.get()
    }
}
