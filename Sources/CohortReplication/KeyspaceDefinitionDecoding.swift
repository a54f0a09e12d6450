/// What ``KeyspaceDefinition/decodeVersioned(_:)`` found in an encoded definition.
public enum KeyspaceDefinitionDecoding: Hashable, Sendable {
    /// A definition this node understands.
    case definition(KeyspaceDefinition)
    /// A well-framed entry that a newer node wrote: a format version or a strategy this node
    /// does not know. It is kept (bytes untouched) and reported, never served. `name` is nil
    /// when the format is unknown and its name could not be read.
    case unsupported(name: String?, formatVersion: Int, reason: String)
    /// Not a definition of any format: truncated, trailing bytes, a wrong tag.
    case malformed
}
