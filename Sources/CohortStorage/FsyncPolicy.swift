/// When the engine forces written records to stable storage (DESIGN.md §5).
public enum FsyncPolicy: String, Sendable, CaseIterable {
    /// Group commit: a dedicated thread fsyncs pending writes in batches and a commit is durable
    /// after the fsync that covers it. The default.
    case batch
    /// A thread fsyncs once a second; a crash may lose up to about a second of acknowledged writes.
    case everysec
    /// Never fsync explicitly; the operating system writes back when it likes.
    case none
}
