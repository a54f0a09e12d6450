/// A keyspace definition that a newer node wrote and this node cannot read (see
/// ``KeyspaceDefinitionDecoding/unsupported(name:formatVersion:reason:)``). The catalog keeps
/// its bytes untouched, so that its snapshot and file carry it on to nodes that can, and
/// reports it, so that operators see which keyspace this node does not serve.
public struct UnsupportedKeyspaceEntry: Hashable, Sendable {
    /// The keyspace's name, when it could be read.
    public var name: String?
    /// The format version the entry was written in.
    public var formatVersion: Int
    /// What this node does not know.
    public var reason: String
    /// The encoded definition, exactly as it arrived.
    public var bytes: [UInt8]

    /// Creates an entry from what ``KeyspaceDefinition/decodeVersioned(_:)`` reported.
    public init(name: String?, formatVersion: Int, reason: String, bytes: [UInt8]) {
        self.name = name
        self.formatVersion = formatVersion
        self.reason = reason
        self.bytes = bytes
    }

    /// The entry for `bytes` when they decode as unsupported; nil otherwise.
    public init?(decoding bytes: [UInt8]) {
        guard
            case .unsupported(let name, let formatVersion, let reason) =
                KeyspaceDefinition.decodeVersioned(bytes)
        else { return nil }
        self.init(name: name, formatVersion: formatVersion, reason: reason, bytes: bytes)
    }

    /// One line for operators: `name unsupported (format N): reason`.
    public var summary: String {
        "\(name ?? "?") unsupported (format \(formatVersion)): \(reason)"
    }
}
