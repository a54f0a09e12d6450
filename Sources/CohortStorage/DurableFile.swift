/// Small whole files that must survive a crash intact (a node's keyspace catalog): read whole,
/// replaced atomically and durably (temporary file, fdatasync, rename, directory fsync).
public enum DurableFile {
    /// The contents of `directory/name` on `device`, or nil when it does not exist.
    public static func read(
        name: String, directory: String,
        device: any StorageDevice
    ) throws(StorageError) -> [UInt8]? {
        try RaftLogFileSystem.read(directory + "/" + name, device: device)
    }

    /// Replaces `directory/name` on `device` with `bytes`: after a crash it holds the old or
    /// the new contents, never a mix; when this returns, the new contents are durable.
    public static func write(
        _ bytes: [UInt8], name: String, directory: String,
        device: any StorageDevice
    ) throws(StorageError) {
        try RaftLogFileSystem.createDirectory(directory, device: device)
        try RaftLogFileSystem.writeAtomically(
            bytes, name: name, directory: directory, device: device)
    }
}
