/// An incomplete or damaged end of the segment that was being appended to when the process
/// stopped, cut at restart.
public struct TornTail: Hashable, Sendable {
    /// File name within the data directory.
    public var file: String
    /// The new length of the file: the end of the last complete transaction.
    public var offset: Int
    /// Bytes removed.
    public var bytesDropped: Int
    /// What was wrong at the start of the damaged region.
    public var reason: String

    /// Creates a report line.
    public init(file: String, offset: Int, bytesDropped: Int, reason: String) {
        self.file = file
        self.offset = offset
        self.bytesDropped = bytesDropped
        self.reason = reason
    }
}
