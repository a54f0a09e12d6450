import CohortCore
import CohortRaft

/// Adding and removing nodes online:
///
///     COHORT NODE ADD <name> <host:peer-port> [VOTER | LEARNER | WITNESS]
///     COHORT NODE REMOVE <name>
///
/// ADD first replicates the new node's address (a ``MemberEntry``) so every node can dial it,
/// then the leader proposes the Raft membership change. A voter joins as a learner and is
/// promoted once caught up. Before proposing, the leader takes a snapshot, so the new node is
/// seeded from a snapshot tied to a log index and then catches up from the log after it.
extension LeaderGroup {
    static func isNodeCommand(_ arguments: [[UInt8]]) -> Bool {
        arguments.count >= 2 && CommandWord.matches(arguments[0], "COHORT")
            && CommandWord.matches(arguments[1], "NODE")
    }

    /// Runs COHORT NODE on the leader.
    mutating func handleNodeCommand(
        _ arguments: [[UInt8]], deadlineMillis: UInt64, target: ReplyTarget
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
                return answer(target, .error("ERR address must be host:port"), token: .zero)
            }
            let roleName = words.count == 6 ? words[5].uppercased() : "VOTER"
            let role: MemberEntry.Role
            switch roleName {
            case "VOTER": role = .voter
            case "LEARNER": role = .learner
            case "WITNESS": role = .witness
            default:
                return answer(
                    target, .error("ERR role must be VOTER, LEARNER or WITNESS"), token: .zero)
            }
            let id = Self.nodeID(named: name)
            guard !raft.membership.contains(id) else {
                return answer(target, .error("ERR \(name) is already a member"), token: .zero)
            }
            // Seed the new node from a snapshot of what is applied now.
            maybeCompactLog(urgent: true)
            let entry = MemberEntry(
                name: name, host: String(words[4][..<colon]), port: port, role: role)
            answerOnCommit(
                raft.propose(entry.encoded()),
                reply: .simpleString("OK adding \(name) as \(roleName.lowercased())"),
                deadlineMillis: deadlineMillis, target: target)
        case "REMOVE" where words.count == 4:
            let id = Self.nodeID(named: words[3])
            guard raft.membership.contains(id) else {
                return answer(target, .error("ERR \(words[3]) is not a member"), token: .zero)
            }
            // Removing a node that keyspaces name would silently cost them a replica: take it
            // out of them first, which moves their groups' memberships explicitly.
            let holding = catalog.sorted.filter { $0.members.contains(words[3]) }.map(\.name)
            guard holding.isEmpty else {
                return answer(
                    target,
                    .error(
                        "ERR \(words[3]) replicates keyspaces \(holding.joined(separator: ", ")); remove it from them first (COHORT KEYSPACE REMOVE)"
                    ), token: .zero)
            }
            answerOnCommit(
                raft.proposeMembershipChange(.remove(id)), reply: .simpleString("OK"),
                deadlineMillis: deadlineMillis, target: target)
        default:
            answer(
                target,
                .error(
                    "ERR usage: COHORT NODE ADD <name> <host:port> [VOTER|LEARNER|WITNESS] | COHORT NODE REMOVE <name>"
                ),
                token: .zero)
        }
    }

    /// Answers `reply` once the proposed entry commits in its term, or the refusal now.
    mutating func answerOnCommit(
        _ result: RaftProposeResult, reply: RESPValue, deadlineMillis: UInt64,
        target: ReplyTarget
    ) {
        switch result {
        case .appended(let index, let term):
            pendingWrites[index] = PendingWrite(
                term: term, ackMode: .majority, reply: reply, deadlineMillis: deadlineMillis,
                target: target)
        case .notLeader:
            answer(target, .error("TRYAGAIN leadership moved; nothing changed"), token: .zero)
        case .rejected(let rejection):
            answer(target, .error("TRYAGAIN the leader refused (\(rejection))"), token: .zero)
        }
    }

    /// Every node: learn the new member's address. The leader: propose the membership change.
    mutating func applyMember(_ entry: MemberEntry, at index: LogIndex) {
        let id = Self.nodeID(named: entry.name)
        names[id] = entry.name
        let endpoint = PeerEndpoint(host: entry.host, port: entry.port)
        knownPeers[entry.name] = endpoint
        actions.append(.peerLearned(name: entry.name, id, endpoint, admittedAt: index))
        log(
            .info, "member address recorded",
            ["name": "\(entry.name)", "address": "\(entry.host):\(entry.port)"])
        guard raft.isLeader, !raft.membership.contains(id) else { return }
        let change: RaftMembershipChange
        switch entry.role {
        case .voter: change = .addVoter(id)
        case .learner: change = .addLearner(id)
        case .witness: change = .addWitness(id)
        }
        let result = raft.proposeMembershipChange(change)
        log(.info, "proposed membership change", ["change": "\(change)", "result": "\(result)"])
    }
}
