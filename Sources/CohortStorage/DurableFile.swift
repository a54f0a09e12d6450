/// Small whole files that must survive a crash intact (a node's keyspace catalog): read whole,
/// replaced atomically and durably (temporary file, fdatasync, rename, directory fsync).
public enum DurableFile {
    /// The contents of `directory/name`, or nil when it does not exist.
    public static func read(name: String, directory: String) throws(StorageError) -> [UInt8]? {
        try RaftLogFileSystem.read(directory + "/" + name)
    }

    /// Replaces `directory/name` with `bytes`: after a crash it holds the old or the new
    /// contents, never a mix; when this returns, the new contents are durable.
    public static func write(
        _ bytes: [UInt8], name: String, directory: String
    ) throws(StorageError) {
        try RaftLogFileSystem.createDirectory(directory)
        try RaftLogFileSystem.writeAtomically(bytes, name: name, directory: directory)
    }
}
