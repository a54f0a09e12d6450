/// Reading every format a definition was ever written in.
///
/// Decoding is lenient: it checks structure only, never ``KeyspaceDefinition/validationError``
/// (validation belongs to CREATE, and a future version may accept what this one refuses, so
/// a node must not stop on an entry a newer node accepted). A definition written by a newer
/// node is `.unsupported`, not `.malformed`, so that the catalog keeps it.
extension KeyspaceDefinition {
    /// The format this node writes, and the newest it reads. 0 is the unversioned format of
    /// earlier nodes (tag · version · ack mode · name · members), read but no longer written.
    public static let formatVersion = 1

    /// In the unversioned format the definition's `version` follows the tag; in versioned
    /// formats this marker takes its place (a definition never reaches 2^32 - 1 changes),
    /// followed by the format version.
    static let versionedFormatMarker = UInt32.max

    /// Decodes any format: see ``KeyspaceDefinitionDecoding``.
    public static func decodeVersioned(_ bytes: [UInt8]) -> KeyspaceDefinitionDecoding {
        var reader = ByteCoding.Reader(bytes)
        guard reader.byte() == tag, let word = reader.uint32() else { return .malformed }
        guard word == versionedFormatMarker else {
            return decodeBody(&reader, formatVersion: 0, version: word, name: nil)
        }
        guard let format = reader.uint32() else { return .malformed }
        // Every versioned format puts the name right after the format version, so that a
        // node can say which keyspace it cannot read.
        let name = reader.lengthPrefixed().map { String(decoding: $0, as: UTF8.self) }
        guard Int(format) == formatVersion else {
            guard format > formatVersion else { return .malformed }
            return .unsupported(
                name: name, formatVersion: Int(format),
                reason:
                    "format version \(format) is newer than this node reads (\(formatVersion))")
        }
        guard let name, let version = reader.uint32() else { return .malformed }
        return decodeBody(&reader, formatVersion: Int(format), version: version, name: name)
    }

    /// The rest of a definition after its version (and, versioned, its name): format 0 has
    /// ack mode · name · members; format 1 has ack mode · strategy tag u8 · strategy
    /// parameters (u32 length, bytes) · members.
    private static func decodeBody(
        _ reader: inout ByteCoding.Reader, formatVersion: Int, version: UInt32, name: String?
    ) -> KeyspaceDefinitionDecoding {
        guard let ack = reader.lengthPrefixed() else { return .malformed }
        var name = name
        var strategy = ReplicationStrategy.singleLeader
        var unknownStrategy: String?
        if formatVersion == 0 {
            guard let bytes = reader.lengthPrefixed() else { return .malformed }
            name = String(decoding: bytes, as: UTF8.self)
        } else {
            guard let strategyTag = reader.byte(), let parameters = reader.lengthPrefixed() else {
                return .malformed
            }
            switch ReplicationStrategy.decode(tag: strategyTag, parameters: parameters) {
            case .strategy(let known): strategy = known
            case .unknown(let reason): unknownStrategy = reason
            }
        }
        var lists: [[String]] = []
        for _ in 0..<3 {
            // Each member takes at least its 4-byte length: a count beyond that is damage,
            // refused before anything is reserved for it.
            guard let count = reader.uint32(), Int(count) <= reader.remaining / 4 else {
                return .malformed
            }
            var list: [String] = []
            for _ in 0..<count {
                guard let member = reader.lengthPrefixed() else { return .malformed }
                list.append(String(decoding: member, as: UTF8.self))
            }
            lists.append(list)
        }
        guard reader.remaining == 0, let name else { return .malformed }
        if let unknownStrategy {
            return .unsupported(name: name, formatVersion: formatVersion, reason: unknownStrategy)
        }
        let ackText = String(decoding: ack, as: UTF8.self)
        guard let ackMode = AckMode(rawValue: ackText) else {
            return .unsupported(
                name: name, formatVersion: formatVersion,
                reason: "acknowledgement mode '\(ackText.prefix(64))' is unknown to this node")
        }
        var definition = KeyspaceDefinition(
            name: name, voters: lists[0], learners: lists[1], witnesses: lists[2],
            ackMode: ackMode, strategy: strategy)
        definition.version = version
        return .definition(definition)
    }
}
