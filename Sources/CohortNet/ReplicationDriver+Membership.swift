import CohortCore
import CohortNode
import CohortRaft
import CohortReplication
import Foundation

/// Adding and removing nodes online:
///
///     COHORT NODE ADD <name> <host:peer-port> [VOTER | LEARNER | WITNESS]
///     COHORT NODE REMOVE <name>
///
/// ADD first replicates the new node's address (a ``MemberEntry``) so every node can dial it,
/// then the leader proposes the Raft membership change. A voter joins as a learner and is
/// promoted once caught up. Before proposing, the leader takes a snapshot, so the new node is
/// seeded from a snapshot tied to a log index and then catches up from the log after it.
extension ReplicationDriver {
    static func isNodeCommand(_ arguments: [[UInt8]]) -> Bool {
        arguments.count >= 2 && CommandExecutor.isNamed(arguments[0], "COHORT")
            && CommandExecutor.isNamed(arguments[1], "NODE")
    }

    /// Runs COHORT NODE on the leader.
    func handleNodeCommand(
        _ arguments: [[UInt8]], deadlineMillis: UInt64,
        completion: @escaping @Sendable (RESPValue, UInt64) -> Void
    ) {
        let words = arguments.map { String(decoding: $0, as: UTF8.self) }
        let verb = words.count > 2 ? words[2].uppercased() : ""
        switch verb {
        case "ADD" where words.count == 5 || words.count == 6:
            let name = words[3]
            guard let colon = words[4].lastIndex(of: ":"),
                let port = Int(words[4][words[4].index(after: colon)...]),
                (1...65_535).contains(port),
                colon != words[4].startIndex
            else {
                return completion(.error("ERR address must be host:port"), 0)
            }
            let roleName = words.count == 6 ? words[5].uppercased() : "VOTER"
            let role: MemberEntry.Role
            switch roleName {
            case "VOTER": role = .voter
            case "LEARNER": role = .learner
            case "WITNESS": role = .witness
            default: return completion(.error("ERR role must be VOTER, LEARNER or WITNESS"), 0)
            }
            let id = Self.nodeID(named: name)
            guard !node.membership.contains(id) else {
                return completion(.error("ERR \(name) is already a member"), 0)
            }
            // Seed the new node from a snapshot of what is applied now.
            maybeCompactLog(force: true)
            let entry = MemberEntry(
                name: name, host: String(words[4][..<colon]), port: port, role: role)
            answerOnCommit(
                node.propose(entry.encoded()),
                reply: .simpleString("OK adding \(name) as \(roleName.lowercased())"),
                deadlineMillis: deadlineMillis, completion: completion)
        case "REMOVE" where words.count == 4:
            let id = Self.nodeID(named: words[3])
            guard node.membership.contains(id) else {
                return completion(.error("ERR \(words[3]) is not a member"), 0)
            }
            // Removing a node that keyspaces name would silently cost them a replica: take it
            // out of them first, which moves their groups' memberships explicitly.
            let holding = catalog.sorted.filter { $0.members.contains(words[3]) }.map(\.name)
            guard holding.isEmpty else {
                return completion(
                    .error(
                        "ERR \(words[3]) replicates keyspaces \(holding.joined(separator: ", ")); remove it from them first (COHORT KEYSPACE REMOVE)"
                    ), 0)
            }
            answerOnCommit(
                node.proposeMembershipChange(.remove(id)), reply: .simpleString("OK"),
                deadlineMillis: deadlineMillis, completion: completion)
        default:
            completion(
                .error(
                    "ERR usage: COHORT NODE ADD <name> <host:port> [VOTER|LEARNER|WITNESS] | COHORT NODE REMOVE <name>"
                ),
                0)
        }
    }

    /// Answers `reply` once the proposed entry commits in its term, or the refusal now.
    func answerOnCommit(
        _ result: RaftProposeResult, reply: RESPValue, deadlineMillis: UInt64,
        completion: @escaping @Sendable (RESPValue, UInt64) -> Void
    ) {
        switch result {
        case .appended(let index, let term):
            pendingWrites[index] = PendingWrite(
                term: term, ackMode: .majority, reply: reply, deadlineMillis: deadlineMillis,
                completion: completion)
            schedulePump()
        case .notLeader:
            completion(.error("TRYAGAIN leadership moved; nothing changed"), 0)
        case .rejected(let rejection):
            completion(.error("TRYAGAIN the leader refused (\(rejection))"), 0)
        }
    }

    /// Every node: learn the new member's address. The leader: propose the membership change.
    func applyMember(_ entry: MemberEntry) {
        let id = Self.nodeID(named: entry.name)
        names[id] = entry.name
        knownPeers[entry.name] = PeerAddress(host: entry.host, port: entry.port)
        savePeers()
        if id != nodeID {
            transport.addPeer(id, address: PeerAddress(host: entry.host, port: entry.port))
        }
        logger.info(
            "member address recorded",
            metadata: ["name": "\(entry.name)", "address": "\(entry.host):\(entry.port)"])
        guard node.isLeader, !node.membership.contains(id) else { return }
        let change: RaftMembershipChange
        switch entry.role {
        case .voter: change = .addVoter(id)
        case .learner: change = .addLearner(id)
        case .witness: change = .addWitness(id)
        }
        let result = node.proposeMembershipChange(change)
        logger.info(
            "proposed membership change", metadata: ["change": "\(change)", "result": "\(result)"])
    }

    /// The addresses of members added online, one `name host port` line each, so a restart
    /// can dial them even after the entries that carried them were compacted away.
    static func loadPeers(path: String) -> [String: PeerAddress] {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        return PeerListFile.loadReporting(directory: directory)
    }

    func savePeers() {
        do {
            try PeerListFile.save(knownPeers, directory: configuration.dataDirectory)
        } catch {
            logger.error("could not save peer addresses", metadata: ["error": "\(error)"])
        }
    }
}
