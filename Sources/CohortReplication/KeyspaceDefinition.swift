import CohortCore

/// A keyspace other than `default`: its own single-leader replication group on a subset of the
/// cluster's nodes, with its own acknowledgement mode (DESIGN.md §1, §3).
///
/// A definition is created online with `COHORT KEYSPACE CREATE` and travels as an entry in the
/// default keyspace's log, so every node learns the same catalog in the same order; the nodes it
/// names then start the group with exactly these members. `COHORT KEYSPACE ADD | REMOVE`
/// replicate a new version of it (``version`` one higher); the keyspace group's leader then
/// changes the group's Raft membership to match, one node at a time.
public struct KeyspaceDefinition: Hashable, Sendable {
    /// The keyspace's name: 1 to ``nameBytesMax`` letters, digits, `_` or `-`.
    public var name: String
    /// Node names that vote and hold data.
    public var voters: [String]
    /// Node names that hold data but do not vote (read replicas).
    public var learners: [String]
    /// Node names that vote but keep no data (tie-breakers).
    public var witnesses: [String]
    /// The acknowledgement mode of writes that do not choose one.
    public var ackMode: AckMode
    /// How the keyspace replicates.
    public var strategy: ReplicationStrategy
    /// 0 as created; each change of members adds one. A node that starts the group of a
    /// changed keyspace joins it empty and is brought in by the group's leader.
    public var version: UInt32 = 0

    /// Creates a definition; see ``validationError`` before trusting user input.
    public init(
        name: String, voters: [String], learners: [String] = [], witnesses: [String] = [],
        ackMode: AckMode = .majority, strategy: ReplicationStrategy = .singleLeader
    ) {
        self.name = name
        self.voters = voters
        self.learners = learners
        self.witnesses = witnesses
        self.ackMode = ackMode
        self.strategy = strategy
    }

    /// The name of the keyspace every node has, replicated by the cluster's own group.
    public static let defaultName = "default"
    /// The longest name accepted.
    public static let nameBytesMax = 64
    /// The most members a keyspace may name.
    public static let membersMax = 64
    /// The first byte of an encoded definition entry; see ``MemberEntry/tag``.
    public static let tag: UInt8 = 0xC2

    /// The replication group's id on the wire: FNV-1a of the name, never 0 (the default
    /// keyspace's group). Names never change, so every node computes the same id.
    public var groupID: UInt64 { Self.groupID(named: name) }

    /// The group id of the keyspace called `name`.
    public static func groupID(named name: String) -> UInt64 {
        if name == defaultName { return 0 }
        let hash = FNV1a.hash(name.utf8)
        return hash == 0 ? 1 : hash
    }

    /// One line for operators: `name ack=MODE voters=a,b [learners=..] [witnesses=..]`, or for
    /// a leaderless keyspace `name strategy=leaderless N 3 W 2 R 2 ... nodes=a,b,c`.
    public var summary: String {
        if let parameters = strategy.leaderless {
            return "\(name) strategy=leaderless \(parameters.summary) nodes="
                + voters.joined(separator: ",")
        }
        var line = "\(name) ack=\(ackMode.rawValue) voters=" + voters.joined(separator: ",")
        if !learners.isEmpty { line += " learners=" + learners.joined(separator: ",") }
        if !witnesses.isEmpty { line += " witnesses=" + witnesses.joined(separator: ",") }
        return line
    }

    /// Every member, voters first.
    public var members: [String] { voters + witnesses + learners }

    /// Whether `name` is a valid keyspace name (not checking that it is free).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= nameBytesMax
            && name.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
                    || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F || byte == 0x2D
            }
    }

    /// Why this definition cannot be created, or nil when it can (members are not checked
    /// against the cluster here).
    public var validationError: String? {
        if name == Self.defaultName { return "the default keyspace already exists" }
        if !Self.isValidName(name) {
            return "a keyspace name is 1 to \(Self.nameBytesMax) letters, digits, '_' or '-'"
        }
        if voters.isEmpty { return "a keyspace needs at least one voter" }
        if members.count > Self.membersMax {
            return "a keyspace has at most \(Self.membersMax) members"
        }
        if Set(members).count != members.count { return "a node is named twice" }
        if !witnesses.isEmpty && voters.count < 2 {
            // A witness breaks ties between data-holding voters; with one voter it could
            // only elect itself, and it holds no data to serve.
            return "a witness needs at least two data-holding voters"
        }
        if members.contains(where: { $0.isEmpty || $0.utf8.count > Self.nameBytesMax }) {
            return "a node name is empty or too long"
        }
        if let parameters = strategy.leaderless {
            if !learners.isEmpty || !witnesses.isEmpty {
                return "a leaderless keyspace has nodes only (no learners or witnesses)"
            }
            return parameters.problem(nodes: voters.count)
        }
        return nil
    }

    /// The byte form, format ``formatVersion`` (1): tag u8 · marker u32 0xFFFF_FFFF · format
    /// version u32 · name (u32 length, bytes) · version u32 · ack mode (same) · strategy tag
    /// u8 · strategy parameters (same) · voters, learners, witnesses (each a u32 count, then
    /// names as u32 length and bytes). Integers are little-endian.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = [Self.tag]
        ByteCoding.append(Self.versionedFormatMarker, to: &out)
        ByteCoding.append(UInt32(Self.formatVersion), to: &out)
        ByteCoding.appendBytes(Array(name.utf8), to: &out)
        ByteCoding.append(version, to: &out)
        ByteCoding.appendBytes(Array(ackMode.rawValue.utf8), to: &out)
        out.append(strategy.tag)
        ByteCoding.appendBytes(strategy.parameters, to: &out)
        for list in [voters, learners, witnesses] {
            ByteCoding.append(UInt32(list.count), to: &out)
            for member in list { ByteCoding.appendBytes(Array(member.utf8), to: &out) }
        }
        return out
    }

    /// Decodes a definition of any format this node reads; nil for anything malformed or
    /// written by a newer node (``decodeVersioned(_:)`` tells the two apart). Lenient: it
    /// does not apply ``validationError``.
    public static func decode(_ bytes: [UInt8]) -> KeyspaceDefinition? {
        guard case .definition(let definition) = decodeVersioned(bytes) else { return nil }
        return definition
    }
}
