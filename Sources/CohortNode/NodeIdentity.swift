import CohortCore

/// Who this node is across restarts, and whom it has talked to: the defence against a node
/// whose data directory was wiped coming back under its old name.
///
/// Raft's safety rests on each node remembering its vote and its log. A node restarted over an
/// empty data directory has forgotten both: it could vote a second time in a term it already
/// voted in (two leaders in one term), or count towards a majority for entries it no longer
/// holds. So every data directory gets an **incarnation**, a random non-zero number made when the
/// directory is first used and kept in it. Peers exchange incarnations in the handshake, and
/// each node remembers, durably, the incarnation it first saw of every peer. A peer that comes
/// back with another incarnation is refused: it is a new node wearing an old name.
///
/// The way back is the membership protocol, which Raft makes safe for a node with an empty
/// log: remove the node (`COHORT NODE REMOVE`), then add it again (`COHORT NODE ADD`). Applying
/// that ADD's member entry, at log index `i`, makes every node forget the old incarnation
/// (``memberAdmitted(_:at:)``), and the next one it sees becomes the remembered one. The record
/// keeps `i`, so replaying the same entry after a restart forgets nothing.
///
/// A pure value: the host reads and writes it (``encoded()``, ``decode(_:)``) and must make a
/// change durable before it acts on it (accepts the connection).
public struct NodeIdentity: Hashable, Sendable {
    /// What this node remembers of one peer.
    public struct PeerRecord: Hashable, Sendable {
        /// The peer's incarnation, or nil when it was forgotten and the next one seen is taken.
        public var incarnation: UInt64?
        /// The log index of the last member entry that admitted the peer (zero: none seen).
        public var admittedAt: LogIndex

        /// A record.
        public init(incarnation: UInt64?, admittedAt: LogIndex) {
            self.incarnation = incarnation
            self.admittedAt = admittedAt
        }
    }

    /// What to do with a peer that presents an incarnation.
    public enum Admission: Hashable, Sendable {
        /// The incarnation remembered: accept.
        case known
        /// Nothing remembered: accept, after making the new record durable.
        case firstSeen
        /// Another incarnation is remembered: refuse.
        case replaced(remembered: UInt64)
    }

    /// Why an identity file could not be read.
    public enum DecodeError: Error, Hashable, Sendable, CustomStringConvertible {
        /// Line `number` (from 1) is not what the format says.
        case damagedLine(number: Int, text: String)
        /// The file does not start with a format line this node reads.
        case unknownFormat(String)

        public var description: String {
            switch self {
            case .damagedLine(let number, let text):
                "line \(number) of the node identity file is damaged: \"\(text.prefix(200))\""
            case .unknownFormat(let line):
                "the node identity file starts with \"\(line.prefix(200))\", not \"\(NodeIdentity.formatLine)\""
            }
        }
    }

    /// The file's first line.
    public static let formatLine = "cohort-node-identity 1"

    /// This data directory's incarnation (never zero).
    public let incarnation: UInt64
    /// What this node remembers of each peer.
    public private(set) var peers: [NodeID: PeerRecord]

    /// A new identity with nothing remembered. Traps on a zero incarnation (zero means "none").
    public init(incarnation: UInt64, peers: [NodeID: PeerRecord] = [:]) {
        precondition(incarnation != 0, "an incarnation cannot be zero")
        self.incarnation = incarnation
        self.peers = peers
    }

    /// What `peer` presenting `presented` gets, without changing anything.
    public func admission(of peer: NodeID, presenting presented: UInt64) -> Admission {
        guard let remembered = peers[peer]?.incarnation else { return .firstSeen }
        return remembered == presented ? .known : .replaced(remembered: remembered)
    }

    /// Decides on `peer` presenting `presented`, and remembers a first-seen incarnation.
    /// A zero incarnation is never accepted (it is no incarnation at all).
    public mutating func admit(_ peer: NodeID, presenting presented: UInt64) -> Admission {
        precondition(peer != .none, "NodeID.none has no incarnation")
        guard presented != 0 else { return .replaced(remembered: peers[peer]?.incarnation ?? 0) }
        let admission = admission(of: peer, presenting: presented)
        if admission == .firstSeen {
            let admittedAt = peers[peer]?.admittedAt ?? .zero
            peers[peer] = PeerRecord(incarnation: presented, admittedAt: admittedAt)
        }
        return admission
    }

    /// A member entry at `index` (re)admitted `peer`: a newer admission than the record's
    /// forgets its incarnation. Returns whether anything changed (and must be saved).
    public mutating func memberAdmitted(_ peer: NodeID, at index: LogIndex) -> Bool {
        if let record = peers[peer], record.admittedAt >= index { return false }
        peers[peer] = PeerRecord(incarnation: nil, admittedAt: index)
        return true
    }

    /// The file's contents: the format line, `incarnation <hex>`, then one
    /// `peer <node-id hex> <incarnation hex or -> <admitted-at index>` line per peer, in id order.
    public func encoded() -> [UInt8] {
        var text = Self.formatLine + "\n"
        text += "incarnation \(String(incarnation, radix: 16))\n"
        for (peer, record) in peers.sorted(by: { $0.key < $1.key }) {
            let presented = record.incarnation.map { String($0, radix: 16) } ?? "-"
            text +=
                "peer \(String(peer.rawValue, radix: 16)) \(presented) \(record.admittedAt.rawValue)\n"
        }
        return Array(text.utf8)
    }

    /// Reads ``encoded()``'s format. Anything else is an error, never a fresh identity: a
    /// damaged file silently replaced would let a wiped peer back in.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> NodeIdentity {
        var lines = String(decoding: bytes, as: UTF8.self).split(
            separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first, first == formatLine else {
            throw .unknownFormat(lines.first.map(String.init) ?? "")
        }
        guard lines.count >= 2 else { throw .damagedLine(number: 2, text: "") }
        let head = lines[1].split(separator: " ")
        guard head.count == 2, head[0] == "incarnation",
            let incarnation = UInt64(head[1], radix: 16), incarnation != 0
        else { throw .damagedLine(number: 2, text: String(lines[1])) }
        var peers: [NodeID: PeerRecord] = [:]
        for (offset, line) in lines.dropFirst(2).enumerated() {
            let fields = line.split(separator: " ")
            let damaged = DecodeError.damagedLine(number: offset + 3, text: String(line))
            guard fields.count == 4, fields[0] == "peer",
                let id = UInt64(fields[1], radix: 16), id != 0,
                let admittedAt = UInt64(fields[3]), peers[NodeID(id)] == nil
            else { throw damaged }
            let presented: UInt64?
            if fields[2] == "-" {
                presented = nil
            } else if let value = UInt64(fields[2], radix: 16), value != 0 {
                presented = value
            } else {
                throw damaged
            }
            peers[NodeID(id)] = PeerRecord(
                incarnation: presented, admittedAt: LogIndex(admittedAt))
        }
        return NodeIdentity(incarnation: incarnation, peers: peers)
    }
}
