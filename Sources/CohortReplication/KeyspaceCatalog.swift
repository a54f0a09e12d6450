import CohortCore

/// Every keyspace the cluster has created, as the default keyspace's log defined them.
///
/// It is state of the default group's state machine: it is saved beside the node's data after
/// each change, and it travels inside the default group's snapshots (``snapshotPrefix()``), so a
/// node seeded from a snapshot learns the keyspaces created before it.
public struct KeyspaceCatalog: Hashable, Sendable {
    /// Definitions by name.
    public private(set) var definitions: [String: KeyspaceDefinition] = [:]
    /// Entries written by newer nodes that this node cannot read, in name order (nameless
    /// ones last): kept so that they reach status and travel on untouched in the catalog's
    /// file and snapshots. A definition of the same name, if this node had one, stays in
    /// `definitions`.
    public private(set) var unsupported: [UnsupportedKeyspaceEntry] = []

    /// An empty catalog.
    public init() {}

    /// The definitions in name order.
    public var sorted: [KeyspaceDefinition] {
        definitions.keys.sorted().map { definitions[$0]! }
    }

    /// The keyspace called `name`, if created.
    public func definition(named name: String) -> KeyspaceDefinition? { definitions[name] }

    /// Records `definition`: a new keyspace at version 0, or the next version of one already
    /// here. Returns false (and changes nothing) otherwise, so replaying an entry is harmless,
    /// a second CREATE of a name never replaces the first, and of two changes computed from
    /// the same version only the first applies.
    @discardableResult
    public mutating func add(_ definition: KeyspaceDefinition) -> Bool {
        let current = definitions[definition.name]
        guard current.map({ definition.version == $0.version + 1 }) ?? (definition.version == 0)
        else { return false }
        definitions[definition.name] = definition
        return true
    }

    /// Records `definition` when it is newer than what is here (or the keyspace is new),
    /// whatever the versions in between: for catalogs read from disk or from a snapshot,
    /// which carry each keyspace's latest version only.
    @discardableResult
    public mutating func adopt(_ definition: KeyspaceDefinition) -> Bool {
        if let current = definitions[definition.name], current.version >= definition.version {
            return false
        }
        definitions[definition.name] = definition
        return true
    }

    /// Keeps an entry this node cannot read. A later entry of the same name replaces an
    /// earlier one (the log and snapshots bring the latest last); a nameless entry is kept
    /// once. Returns false when nothing changed.
    @discardableResult
    public mutating func keep(_ entry: UnsupportedKeyspaceEntry) -> Bool {
        if let position = unsupported.firstIndex(where: {
            $0.bytes == entry.bytes || (entry.name != nil && $0.name == entry.name)
        }) {
            guard unsupported[position] != entry else { return false }
            unsupported.remove(at: position)
        }
        unsupported.append(entry)
        unsupported.sort { left, right in
            switch (left.name, right.name) {
            case (let a?, let b?):
                return a != b ? a < b : left.bytes.lexicographicallyPrecedes(right.bytes)
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return left.bytes.lexicographicallyPrecedes(right.bytes)
            }
        }
        return true
    }

    static let magic: [UInt8] = Array("CKSC".utf8)

    /// The byte form: magic "CKSC" · count u32 · definitions (u32 length, bytes) in name order,
    /// then the unsupported entries' bytes as they arrived · CRC-32C u32 of everything before
    /// it.
    public func encoded() -> [UInt8] {
        var out = Self.magic
        let all = sorted
        ByteCoding.append(UInt32(all.count + unsupported.count), to: &out)
        for definition in all { ByteCoding.appendBytes(definition.encoded(), to: &out) }
        for entry in unsupported { ByteCoding.appendBytes(entry.bytes, to: &out) }
        ByteCoding.append(CRC32C.checksum(out), to: &out)
        return out
    }

    /// Decodes a catalog; nil when damaged. Entries written by newer nodes are kept in
    /// ``unsupported``, never a reason to refuse the catalog.
    public static func decode(_ bytes: [UInt8]) -> KeyspaceCatalog? {
        guard bytes.count >= 12, Array(bytes[0..<4]) == magic else { return nil }
        var trailer = ByteCoding.Reader(Array(bytes[(bytes.count - 4)...]))
        guard trailer.uint32() == CRC32C.checksum(bytes[0..<(bytes.count - 4)]) else {
            return nil
        }
        var reader = ByteCoding.Reader(Array(bytes[4..<(bytes.count - 4)]))
        guard let count = reader.uint32() else { return nil }
        var catalog = KeyspaceCatalog()
        for _ in 0..<count {
            guard let encoded = reader.lengthPrefixed() else { return nil }
            switch KeyspaceDefinition.decodeVersioned(encoded) {
            case .definition(let definition):
                guard catalog.adopt(definition) else { return nil }
            case .unsupported(let name, let formatVersion, let reason):
                catalog.keep(
                    UnsupportedKeyspaceEntry(
                        name: name, formatVersion: formatVersion, reason: reason, bytes: encoded))
            case .malformed:
                return nil
            }
        }
        return reader.remaining == 0 ? catalog : nil
    }

    /// The first byte of a default-group snapshot that carries a catalog. A bare state
    /// snapshot starts with "CSNP", so the two forms never collide.
    public static let snapshotTag: UInt8 = 0xC3

    /// What precedes the state snapshot in a default-group snapshot: tag · catalog (u32
    /// length, bytes); nothing for an empty catalog (a bare state snapshot).
    public func snapshotPrefix() -> [UInt8] {
        guard !definitions.isEmpty || !unsupported.isEmpty else { return [] }
        var out: [UInt8] = [Self.snapshotTag]
        ByteCoding.appendBytes(encoded(), to: &out)
        return out
    }

    /// Reads a snapshot's catalog prefix from `source`, leaving it at the state snapshot: the
    /// catalog, or an empty one for a bare state snapshot. Nil when the prefix is damaged.
    public static func readSnapshotPrefix(_ source: inout SnapshotByteSource) throws
        -> KeyspaceCatalog?
    {
        guard try source.peekByte() == snapshotTag else { return KeyspaceCatalog() }
        _ = try source.byte()
        guard let encoded = try source.lengthPrefixed(limit: 64 << 20),
            let catalog = decode(encoded)
        else { return nil }
        return catalog
    }
}
