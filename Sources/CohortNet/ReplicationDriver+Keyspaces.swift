import CohortCore
import CohortNode
import CohortRaft
import CohortReplication
import CohortStorage

/// Creating keyspaces online (default group only):
///
///     COHORT KEYSPACE CREATE <name> [VOTERS n1,n2,...] [LEARNERS n4,...] [WITNESS n3]
///                                   [ACK all | majority | leader]
///
/// The leader checks the definition against the cluster's members and proposes it as an entry
/// of the default log. Every node records it in its catalog when it applies the entry; the
/// nodes it names start the keyspace's group (see ``ClusterNode``). Without VOTERS, every
/// voter of the cluster is a voter of the keyspace.
extension ReplicationDriver {
    static let catalogFileName = "keyspaces.catalog"

    static func isKeyspaceCommand(_ arguments: [[UInt8]]) -> Bool {
        arguments.count >= 3 && CommandExecutor.upperCased(arguments[0]) == Array("COHORT".utf8)
            && CommandExecutor.upperCased(arguments[1]) == Array("KEYSPACE".utf8)
            && CommandExecutor.upperCased(arguments[2]) == Array("CREATE".utf8)
    }

    static let keyspaceUsage =
        "ERR usage: COHORT KEYSPACE CREATE <name> [VOTERS n1,n2,...] [LEARNERS n,...] [WITNESS n] [ACK all|majority|leader]"

    /// Parses CREATE's options; the error reply on bad syntax.
    func parseKeyspaceDefinition(
        _ arguments: [[UInt8]]
    ) -> Result<KeyspaceDefinition, CommandError> {
        let words = arguments.map { String(decoding: $0, as: UTF8.self) }
        guard words.count >= 4, words.count % 2 == 0 else {
            return .failure(CommandError(Self.keyspaceUsage))
        }
        var definition = KeyspaceDefinition(
            name: words[3],
            voters: node.membership.voters.map(name(of:)).sorted())
        var index = 4
        while index + 1 < words.count {
            let list = words[index + 1].split(separator: ",").map(String.init)
            switch words[index].uppercased() {
            case "VOTERS": definition.voters = list
            case "LEARNERS": definition.learners = list
            case "WITNESS", "WITNESSES": definition.witnesses = list
            case "ACK":
                guard let mode = AckMode(rawValue: words[index + 1].lowercased()) else {
                    return .failure(CommandError("ERR ack mode must be all, majority or leader"))
                }
                definition.ackMode = mode
            default: return .failure(CommandError(Self.keyspaceUsage))
            }
            index += 2
        }
        if let problem = definition.validationError {
            return .failure(CommandError("ERR " + problem))
        }
        let unknown = definition.members.filter {
            !node.membership.allMembers.contains(Self.nodeID(named: $0))
        }
        guard unknown.isEmpty else {
            return .failure(
                CommandError(
                    "ERR not members of the cluster: \(unknown.joined(separator: ", ")) (add them with COHORT NODE ADD first)"
                ))
        }
        return .success(definition)
    }

    /// Runs COHORT KEYSPACE CREATE on the leader.
    func handleKeyspaceCommand(
        _ arguments: [[UInt8]], deadlineMillis: UInt64,
        completion: @escaping @Sendable (RESPValue, UInt64) -> Void
    ) {
        let definition: KeyspaceDefinition
        switch parseKeyspaceDefinition(arguments) {
        case .success(let parsed): definition = parsed
        case .failure(let error): return completion(.error(error.message), 0)
        }
        guard catalog.definition(named: definition.name) == nil,
            !isKeyspaceProposed(named: definition.name)
        else {
            return completion(.error("ERR keyspace \(definition.name) already exists"), 0)
        }
        if let clash = catalog.sorted.first(where: { $0.groupID == definition.groupID }) {
            // Group ids are hashes of names; two names that collide cannot share the wire.
            return completion(
                .error("ERR the name \(definition.name) collides with keyspace \(clash.name)"), 0)
        }
        answerOnCommit(
            node.propose(definition.encoded()), reply: .ok, deadlineMillis: deadlineMillis,
            completion: completion)
    }

    /// Whether a proposed but not yet applied entry creates a keyspace called `name`, so two
    /// racing CREATEs of one name do not both succeed.
    func isKeyspaceProposed(named name: String) -> Bool {
        var index = appliedIndex.next
        while index <= node.lastIndex {
            if let entry = node.entry(at: index), case .normal(let data) = entry.kind,
                data.first == KeyspaceDefinition.tag,
                KeyspaceDefinition.decode(data)?.name == name
            {
                return true
            }
            index = index.next
        }
        return false
    }

    /// Every node: record a keyspace the log (or a snapshot) defined, durably, before the
    /// group is started, and tell the node about it.
    func applyKeyspace(_ definition: KeyspaceDefinition) {
        var updated = catalog
        guard updated.add(definition) else { return }
        do {
            try DurableFile.write(
                updated.encoded(), name: Self.catalogFileName,
                directory: configuration.dataDirectory)
        } catch {
            // Forgetting a keyspace would fork this node from the others: stop instead.
            stop(because: "saving the keyspace catalog failed", error: "\(error)")
            return
        }
        catalog = updated
        catalogBox.withLockedValue { $0 = updated }
        logger.info(
            "keyspace defined",
            metadata: [
                "keyspace": "\(definition.name)", "voters": "\(definition.voters)",
                "learners": "\(definition.learners)", "witnesses": "\(definition.witnesses)",
                "ack": "\(definition.ackMode.rawValue)",
            ])
        onKeyspaceDefined?(definition)
    }

    /// The catalog saved in `directory`; empty when there is none. A damaged file is fatal:
    /// serving without keyspaces the cluster has would answer for data this node lost.
    static func loadCatalog(directory: String) throws -> KeyspaceCatalog {
        guard let bytes = try DurableFile.read(name: catalogFileName, directory: directory) else {
            return KeyspaceCatalog()
        }
        guard let catalog = KeyspaceCatalog.decode(bytes) else {
            throw StorageError.failed("the keyspace catalog in \(directory) is damaged")
        }
        return catalog
    }
}
