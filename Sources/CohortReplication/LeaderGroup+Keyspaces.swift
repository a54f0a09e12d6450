import CohortCore
import CohortRaft

/// Creating keyspaces and changing their members online (default group only):
///
///     COHORT KEYSPACE CREATE <name> [VOTERS n1,n2,...] [LEARNERS n4,...] [WITNESS n3]
///                                   [ACK all | majority | leader]
///     COHORT KEYSPACE CREATE <name> STRATEGY leaderless [N 3] [W 2] [R 2] [SLOPPY on|off]
///                                   [CONFLICTS siblings|lww] [NODES n1,n2,...]
///     COHORT KEYSPACE ADD <name> <node> [VOTER | LEARNER | WITNESS]
///     COHORT KEYSPACE REMOVE <name> <node>
///
/// The leader checks the definition against the cluster's members and proposes it as an entry
/// of the default log. Every node records it in its catalog when it applies the entry; the
/// nodes it names start the keyspace's group (the node follows ``LeaderGroupAction/keyspaceDefined(_:)``). Without VOTERS, every
/// voter of the cluster is a voter of the keyspace. ADD and REMOVE replicate the definition's
/// next version; the keyspace group's leader then moves the group's Raft membership to it
/// (`reconcileKeyspaceMembership()`), and a removed node stops its copy of the group.
extension LeaderGroup {
    static func isKeyspaceCommand(_ arguments: [[UInt8]]) -> Bool {
        guard arguments.count >= 3,
            CommandWord.matches(arguments[0], "COHORT"),
            CommandWord.matches(arguments[1], "KEYSPACE")
        else { return false }
        let verb = arguments[2]
        return CommandWord.matches(verb, "CREATE") || CommandWord.matches(verb, "ADD")
            || CommandWord.matches(verb, "REMOVE")
    }

    /// The next version of a keyspace's definition for ADD or REMOVE.
    func changedKeyspaceDefinition(
        _ arguments: [[UInt8]]
    ) -> Result<KeyspaceDefinition, GroupCommandError> {
        let words = arguments.map { String(decoding: $0, as: UTF8.self) }
        let verb = words[2].uppercased()
        guard
            (verb == "ADD" && (words.count == 5 || words.count == 6))
                || (verb == "REMOVE" && words.count == 5)
        else {
            return .failure(
                GroupCommandError(
                    "ERR usage: COHORT KEYSPACE ADD <name> <node> [VOTER|LEARNER|WITNESS] | COHORT KEYSPACE REMOVE <name> <node>"
                ))
        }
        let (name, member) = (words[3], words[4])
        guard var definition = catalog.definition(named: name) else {
            return .failure(GroupCommandError("ERR no such keyspace \(name)"))
        }
        guard definition.strategy.leaderless == nil else {
            // Its ring would move partitions between nodes, which leaderless keyspaces do not
            // do online yet (issue 19, item 1).
            return .failure(
                GroupCommandError(
                    "ERR the nodes of leaderless keyspace \(name) cannot change yet; create a new keyspace"
                ))
        }
        if verb == "ADD" {
            guard !definition.members.contains(member) else {
                return .failure(GroupCommandError("ERR \(member) already replicates \(name)"))
            }
            guard raft.membership.allMembers.contains(Self.nodeID(named: member)) else {
                return .failure(
                    GroupCommandError(
                        "ERR \(member) is not a member of the cluster (add it with COHORT NODE ADD first)"
                    ))
            }
            switch words.count == 6 ? words[5].uppercased() : "VOTER" {
            case "VOTER": definition.voters.append(member)
            case "LEARNER": definition.learners.append(member)
            case "WITNESS": definition.witnesses.append(member)
            default:
                return .failure(GroupCommandError("ERR role must be VOTER, LEARNER or WITNESS"))
            }
        } else {
            guard definition.members.contains(member) else {
                return .failure(GroupCommandError("ERR \(member) does not replicate \(name)"))
            }
            definition.voters.removeAll { $0 == member }
            definition.learners.removeAll { $0 == member }
            definition.witnesses.removeAll { $0 == member }
        }
        definition.version += 1
        if let problem = definition.validationError {
            return .failure(GroupCommandError("ERR \(problem)"))
        }
        return .success(definition)
    }

    static let keyspaceUsage =
        "ERR usage: COHORT KEYSPACE CREATE <name> [VOTERS n1,n2,...] [LEARNERS n,...] [WITNESS n] [ACK all|majority|leader] | COHORT KEYSPACE CREATE <name> STRATEGY leaderless [N n] [W n] [R n] [SLOPPY on|off] [CONFLICTS siblings|lww] [NODES n1,n2,...]"

    /// Parses CREATE's options; the error reply on bad syntax.
    func parseKeyspaceDefinition(
        _ arguments: [[UInt8]]
    ) -> Result<KeyspaceDefinition, GroupCommandError> {
        let words = arguments.map { String(decoding: $0, as: UTF8.self) }
        guard words.count >= 4, words.count % 2 == 0 else {
            return .failure(GroupCommandError(Self.keyspaceUsage))
        }
        var definition = KeyspaceDefinition(
            name: words[3],
            voters: raft.membership.voters.map(name(of:)).sorted())
        var index = 4
        var leaderless: LeaderlessParameters?
        var singleLeaderOptions = false
        while index + 1 < words.count {
            let list = words[index + 1].split(separator: ",").map(String.init)
            let value = words[index + 1].lowercased()
            let number = Int(value)
            switch words[index].uppercased() {
            case "STRATEGY":
                switch value {
                case "leaderless": leaderless = leaderless ?? LeaderlessParameters()
                case "single-leader", "singleleader": leaderless = nil
                default:
                    return .failure(
                        GroupCommandError("ERR strategy must be single-leader or leaderless"))
                }
            case "N", "W", "R":
                guard let number, number >= 1, number <= 255 else {
                    return .failure(
                        GroupCommandError(
                            "ERR \(words[index].uppercased()) must be a number from 1 to 255"))
                }
                var parameters = leaderless ?? LeaderlessParameters()
                switch words[index].uppercased() {
                case "N": parameters.replicas = number
                case "W": parameters.writeQuorum = number
                default: parameters.readQuorum = number
                }
                leaderless = parameters
            case "SLOPPY":
                guard value == "on" || value == "off" else {
                    return .failure(GroupCommandError("ERR SLOPPY must be on or off"))
                }
                var parameters = leaderless ?? LeaderlessParameters()
                parameters.sloppy = value == "on"
                leaderless = parameters
            case "CONFLICTS":
                guard
                    let conflicts = LeaderlessParameters.Conflicts.allCases.first(where: {
                        $0.name == value
                    })
                else {
                    return .failure(GroupCommandError("ERR CONFLICTS must be siblings or lww"))
                }
                var parameters = leaderless ?? LeaderlessParameters()
                parameters.conflicts = conflicts
                leaderless = parameters
            case "NODES": definition.voters = list
            case "VOTERS": definition.voters = list
            case "LEARNERS":
                definition.learners = list
                singleLeaderOptions = true
            case "WITNESS", "WITNESSES":
                definition.witnesses = list
                singleLeaderOptions = true
            case "ACK":
                singleLeaderOptions = true
                guard let mode = AckMode(rawValue: words[index + 1].lowercased()) else {
                    return .failure(
                        GroupCommandError("ERR ack mode must be all, majority or leader"))
                }
                definition.ackMode = mode
            default: return .failure(GroupCommandError(Self.keyspaceUsage))
            }
            index += 2
        }
        if let leaderless {
            // N, W, R, SLOPPY or CONFLICTS without STRATEGY leaderless still mean it.
            guard !singleLeaderOptions else {
                return .failure(
                    GroupCommandError(
                        "ERR ACK, LEARNERS and WITNESS are single-leader options; a leaderless keyspace takes N, W, R, SLOPPY, CONFLICTS and NODES"
                    ))
            }
            definition.strategy = .leaderless(leaderless)
        }
        if let problem = definition.validationError {
            return .failure(GroupCommandError("ERR " + problem))
        }
        let unknown = definition.members.filter {
            !raft.membership.allMembers.contains(Self.nodeID(named: $0))
        }
        guard unknown.isEmpty else {
            return .failure(
                GroupCommandError(
                    "ERR not members of the cluster: \(unknown.joined(separator: ", ")) (add them with COHORT NODE ADD first)"
                ))
        }
        return .success(definition)
    }

    /// Runs COHORT KEYSPACE CREATE on the leader.
    mutating func handleKeyspaceCommand(
        _ arguments: [[UInt8]], deadlineMillis: UInt64, target: ReplyTarget
    ) {
        let creates = CommandWord.matches(arguments[2], "CREATE")
        let definition: KeyspaceDefinition
        switch creates ? parseKeyspaceDefinition(arguments) : changedKeyspaceDefinition(arguments)
        {
        case .success(let parsed): definition = parsed
        case .failure(let error): return answer(target, .error(error.message), token: .zero)
        }
        guard !isKeyspaceProposed(named: definition.name) else {
            return answer(
                target, .error("TRYAGAIN a change to keyspace \(definition.name) is in progress"),
                token: .zero)
        }
        guard !creates || catalog.definition(named: definition.name) == nil else {
            return answer(
                target, .error("ERR keyspace \(definition.name) already exists"), token: .zero)
        }
        if creates, let clash = catalog.sorted.first(where: { $0.groupID == definition.groupID }) {
            // Group ids are hashes of names; two names that collide cannot share the wire.
            return answer(
                target,
                .error("ERR the name \(definition.name) collides with keyspace \(clash.name)"),
                token: .zero)
        }
        answerOnCommit(
            raft.propose(definition.encoded()), reply: .ok, deadlineMillis: deadlineMillis,
            target: target)
    }

    /// Whether a proposed but not yet applied entry creates a keyspace called `name`, so two
    /// racing CREATEs of one name do not both succeed.
    func isKeyspaceProposed(named name: String) -> Bool {
        var index = appliedIndex.next
        while index <= raft.lastIndex {
            if let entry = raft.entry(at: index), case .normal(let data) = entry.kind,
                data.first == KeyspaceDefinition.tag,
                KeyspaceDefinition.decode(data)?.name == name
            {
                return true
            }
            index = index.next
        }
        return false
    }

    /// Every node: record a keyspace the log (or, `fromSnapshot`, a snapshot) defined,
    /// durably, before the group is started or changed, and tell the node about it.
    mutating func applyKeyspace(_ definition: KeyspaceDefinition, fromSnapshot: Bool = false) {
        var updated = catalog
        guard fromSnapshot ? updated.adopt(definition) : updated.add(definition) else { return }
        // The host saves the file before it runs anything after it, and stops the group if it
        // cannot: forgetting a keyspace would fork this node from the others.
        actions.append(.saveCatalog(updated.encoded()))
        catalog = updated
        log(
            .info, "keyspace defined",
            [
                "keyspace": "\(definition.name)", "voters": "\(definition.voters)",
                "learners": "\(definition.learners)", "witnesses": "\(definition.witnesses)",
                "ack": "\(definition.ackMode.rawValue)", "version": "\(definition.version)",
            ])
        actions.append(.keyspaceDefined(definition))
    }

    /// Every node: keep a catalog entry a newer node wrote, durably, and say so.
    mutating func keepUnsupportedKeyspace(_ entry: UnsupportedKeyspaceEntry, at index: LogIndex) {
        var updated = catalog
        guard updated.keep(entry) else { return }
        actions.append(.saveCatalog(updated.encoded()))
        catalog = updated
        log(
            .warning, "keyspace entry from a newer version kept but not served",
            ["index": "\(index)", "entry": entry.summary])
    }

    /// Keyspace groups only: a node the keyspace no longer names keeps serving its group (its
    /// vote may be needed to commit its own removal, as when two voters become one) until it
    /// has left: the group's membership no longer holds it (the change reached it, or it led
    /// and removed itself), or no leader has spoken to it for two election timeouts (the
    /// group stopped replicating to it). Then the node stops its copy.
    mutating func checkLeftKeyspace() {
        guard !configuration.groupID.isDefault, !hasLeftKeyspace, let definition = desiredKeyspace,
            !definition.members.contains(configuration.nodeName)
        else { return }
        ticksWithoutLeader = raft.leader == nil ? ticksWithoutLeader + 1 : 0
        guard
            !raft.membership.contains(nodeID)
                || ticksWithoutLeader >= configuration.limits.leftAfterTicks
        else { return }
        hasLeftKeyspace = true
        log(.info, "left the keyspace's group", [:])
        actions.append(.leftGroup)
    }

    /// Keyspace groups only, on the leader: moves the group's Raft membership one step
    /// toward the keyspace's definition (additions first, so the group never shrinks below
    /// what the definition asks for). The Raft core refuses a change while another is
    /// pending, so this just tries again on a later tick.
    mutating func reconcileKeyspaceMembership() {
        guard !configuration.groupID.isDefault, raft.isLeader, let definition = desiredKeyspace
        else { return }
        let change = raft.membership.nextChange(
            towardVoters: definition.voters.map(Self.nodeID(named:)),
            learners: definition.learners.map(Self.nodeID(named:)),
            witnesses: definition.witnesses.map(Self.nodeID(named:)))
        guard let change else { return }
        let result = raft.proposeMembershipChange(change)
        if case .appended = result {
            log(.info, "keyspace membership change proposed", ["change": "\(change)"])
        }
    }
}
