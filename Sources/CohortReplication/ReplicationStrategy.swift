/// How a keyspace replicates its writes (DESIGN.md §1): one leader per group, or leaderless
/// quorums; multi-leader (`.multiLeader(datacenters, topology, resolution)`) is to come as a
/// further case, with its parameters as associated values.
///
/// On the wire a strategy is a tag byte and its parameters as length-prefixed bytes (see
/// ``KeyspaceDefinition/encoded()``). Tags are fixed per case, never derived from the order of
/// the cases, so a node reading a tag it does not know can tell that a newer node wrote it.
public enum ReplicationStrategy: Hashable, Sendable {
    /// One Raft-elected leader per keyspace group orders every write; the keyspace's
    /// ``KeyspaceDefinition/ackMode`` says when a write is acknowledged.
    case singleLeader
    /// Any replica takes writes; a key's N replicas answer quorums of W and R
    /// (``LeaderlessGroup``).
    case leaderless(LeaderlessParameters)

    /// The case's byte on the wire. 0 is never used, so that zeroed bytes do not read as a
    /// strategy.
    public var tag: UInt8 {
        switch self {
        case .singleLeader: return 1
        case .leaderless: return 2
        }
    }

    /// The case's parameters on the wire (the bytes after the tag).
    public var parameters: [UInt8] {
        switch self {
        case .singleLeader: return []
        case .leaderless(let parameters): return parameters.encoded
        }
    }

    /// A name for operators.
    public var name: String {
        switch self {
        case .singleLeader: return "single-leader"
        case .leaderless: return "leaderless"
        }
    }

    /// The leaderless parameters, for a leaderless strategy.
    public var leaderless: LeaderlessParameters? {
        if case .leaderless(let parameters) = self { return parameters }
        return nil
    }

    /// What a tag and its parameters decode to.
    public enum Decoding: Hashable, Sendable {
        /// A strategy this node runs.
        case strategy(ReplicationStrategy)
        /// A newer node's: an unknown tag, or parameters this node cannot read.
        case unknown(reason: String)
    }

    /// The strategy `tag` and `parameters` name.
    public static func decode(tag: UInt8, parameters: [UInt8]) -> Decoding {
        switch tag {
        case 1:
            guard parameters.isEmpty else {
                let count = parameters.count
                return .unknown(
                    reason: "single-leader parameters (\(count) bytes) this node cannot read")
            }
            return .strategy(.singleLeader)
        case 2:
            guard let parameters = LeaderlessParameters(encoded: parameters) else {
                return .unknown(
                    reason:
                        "leaderless parameters (\(parameters.count) bytes) this node cannot read")
            }
            return .strategy(.leaderless(parameters))
        default:
            return .unknown(reason: "replication strategy tag \(tag) is unknown to this node")
        }
    }
}
