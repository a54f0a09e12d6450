/// A region of a file that recovery or compaction could not trust.
public struct StorageCorruption: Hashable, Sendable, CustomStringConvertible {
    /// File name within the data directory.
    public var file: String
    /// Offset of the first untrusted byte.
    public var offset: Int
    /// Why it was rejected.
    public var reason: String

    /// Creates a report line.
    public init(file: String, offset: Int, reason: String) {
        self.file = file
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "\(file)@\(offset): \(reason)" }
}
