/// What a commit must reach before a server may acknowledge it (or show it to a reader), given
/// the engine's fsync policy; `StorageEngine.sequences` says how far each has come.
public enum AcknowledgementPoint: Sendable {
    /// At once (`.everysec` and `.none` without deferred appends).
    case commit
    /// Once its records are in the segment file (`sequences.written`): `.everysec` and `.none`
    /// with `StorageOptions.defersAppendWrites`. A crash of the process loses no acknowledged
    /// write; a crash of the machine may lose what the last fsync did not cover.
    case written
    /// Once an fsync covers it (`sequences.durable`): `.batch`.
    case durable
}
