/// A leaderless keyspace's settings as its definition carries them (``ReplicationStrategy``):
/// N, W, R, sloppy quorums, and how a plain read answers concurrent values.
public struct LeaderlessParameters: Hashable, Sendable {
    /// How a read without COHORT SIBLINGS answers a key with concurrent values.
    public enum Conflicts: UInt8, Hashable, Sendable, CaseIterable {
        /// `-CONFLICT`: the client lists them with COHORT SIBLINGS and writes the merge.
        case siblings = 0
        /// The value with the highest hybrid-logical-clock stamp; the others stay stored
        /// (COHORT SIBLINGS lists them) and are counted.
        case lww = 1

        public var name: String { self == .siblings ? "siblings" : "lww" }
    }

    public var replicas: Int
    public var writeQuorum: Int
    public var readQuorum: Int
    public var sloppy: Bool
    public var conflicts: Conflicts

    public init(
        replicas: Int = 3, writeQuorum: Int = 2, readQuorum: Int = 2, sloppy: Bool = true,
        conflicts: Conflicts = .siblings
    ) {
        self.replicas = replicas
        self.writeQuorum = writeQuorum
        self.readQuorum = readQuorum
        self.sloppy = sloppy
        self.conflicts = conflicts
    }

    /// Why these cannot run on `nodes` members, or nil.
    public func problem(nodes: Int) -> String? {
        if replicas < 1 || replicas > 255 { return "N must be between 1 and 255" }
        if replicas > nodes { return "N \(replicas) is more than the keyspace's \(nodes) nodes" }
        if writeQuorum < 1 || writeQuorum > replicas { return "W must be between 1 and N" }
        if readQuorum < 1 || readQuorum > replicas { return "R must be between 1 and N" }
        return nil
    }

    /// The group settings these parameters give (timeouts and intervals at their defaults).
    public var configuration: LeaderlessConfiguration {
        LeaderlessConfiguration(
            replicas: replicas, writeQuorum: writeQuorum, readQuorum: readQuorum, sloppy: sloppy)
    }

    /// On the wire: format byte 1, N, W, R, sloppy (0 or 1), conflicts.
    var encoded: [UInt8] {
        [
            1, UInt8(replicas), UInt8(writeQuorum), UInt8(readQuorum), sloppy ? 1 : 0,
            conflicts.rawValue,
        ]
    }

    /// The parameters `bytes` hold, or nil when this node cannot read them.
    init?(encoded bytes: [UInt8]) {
        guard bytes.count == 6, bytes[0] == 1, bytes[4] <= 1,
            let conflicts = Conflicts(rawValue: bytes[5])
        else { return nil }
        self.init(
            replicas: Int(bytes[1]), writeQuorum: Int(bytes[2]), readQuorum: Int(bytes[3]),
            sloppy: bytes[4] == 1, conflicts: conflicts)
    }

    /// As operators read it: `N 3 W 2 R 2 SLOPPY on CONFLICTS siblings`.
    public var summary: String {
        "N \(replicas) W \(writeQuorum) R \(readQuorum) SLOPPY \(sloppy ? "on" : "off") "
            + "CONFLICTS \(conflicts.name)"
    }
}
