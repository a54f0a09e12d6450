import CohortCore
import CohortNode
import CohortReplication
import NIOCore

/// A connection's use of a leaderless keyspace: the keyspace's host on this node, and the
/// causal contexts of the connection's recent reads (bounded), so that a plain `SET` after a
/// `GET` of the same key supersedes exactly what the `GET` returned (issue 19, item 3).
struct LeaderlessSession {
    let host: LeaderlessHost
    /// Contexts of recently read or written keys, oldest first in `order`.
    var contexts: [[UInt8]: VersionVector] = [:]
    /// The session's W and R (COHORT W / COHORT R), nil for the keyspace's.
    var writeQuorum: Int?
    var readQuorum: Int?
    var order: [[UInt8]] = []

    /// Contexts a connection keeps.
    static let contextsMax = 1_024

    init(host: LeaderlessHost) { self.host = host }

    func context(of key: [UInt8]) -> VersionVector { contexts[key] ?? .empty }

    mutating func remember(_ context: VersionVector, of key: [UInt8]) {
        if contexts.updateValue(context, forKey: key) == nil { order.append(key) }
        if order.count > Self.contextsMax {
            contexts[order.removeFirst()] = nil
        }
    }
}

/// The commands of a leaderless keyspace (DESIGN.md §3, issue 19): any node coordinates,
/// requests go to the key's N replicas and complete on W or R answers.
///
///     GET key                    the value; -CONFLICT when concurrent values exist (under
///                                CONFLICTS siblings), or the newest (under lww)
///     SET key value              supersedes what this connection last read of the key
///     DEL key                    reads, then writes a tombstone superseding what it read
///     COHORT SIBLINGS key        [context, value1, value2, ...]
///     COHORT PUT key value [CONTEXT ctx]   writes with an explicit context
///     COHORT W|R <n>|ONE|QUORUM|ALL|DEFAULT  this connection's W or R
///     INFO leaderless            the keyspace's counters, hints, staleness and PBS estimate
///
/// Connection commands (PING, HELLO, INFO, COHORT USE, ...) run as usual; anything else is
/// refused with an error that lists these.
extension RESPConnectionHandler {
    /// Starts `arguments` in the session's leaderless keyspace: true when started or answered,
    /// false when it must wait for the command in flight; nil when it is not a leaderless
    /// command (a connection command, run the usual way).
    func startLeaderlessCommand(
        _ arguments: [[UInt8]], _ session: LeaderlessSession, context: ChannelHandlerContext
    ) -> Bool? {
        let name = String(decoding: CommandExecutor.upperCased(arguments[0]), as: UTF8.self)
        let sub =
            arguments.count > 1
            ? String(decoding: CommandExecutor.upperCased(arguments[1]), as: UTF8.self) : ""
        let operation: LeaderlessOperation
        switch (name, sub) {
        case ("GET", _):
            guard arguments.count == 2 else { return refuse(arity: "get", context) }
            operation = .get(arguments[1])
        case ("SET", _):
            guard arguments.count == 3 else {
                return answer(
                    .error(
                        "ERR a leaderless keyspace takes SET key value (no options); "
                            + "COHORT PUT writes with an explicit context"), context)
            }
            operation = .put(arguments[1], arguments[2], context: nil)
        case ("DEL", _), ("UNLINK", _):
            guard arguments.count == 2 else {
                return answer(
                    .error("ERR a leaderless keyspace deletes one key at a time"), context)
            }
            operation = .delete(arguments[1])
        case ("COHORT", "SIBLINGS"):
            guard arguments.count == 3 else { return refuse(arity: "cohort|siblings", context) }
            operation = .siblings(arguments[2])
        case ("COHORT", "W"), ("COHORT", "R"):
            guard arguments.count == 3 else {
                return answer(.error("ERR usage: COHORT W|R <n>|ONE|QUORUM|ALL|DEFAULT"), context)
            }
            let word = String(decoding: CommandExecutor.upperCased(arguments[2]), as: UTF8.self)
            let replicas = session.host.parameters.replicas
            let quorum: Int?
            switch word {
            case "DEFAULT": quorum = nil
            case "ONE": quorum = 1
            case "QUORUM": quorum = replicas / 2 + 1
            case "ALL": quorum = replicas
            default:
                guard let number = Int(word), number >= 1, number <= replicas else {
                    return answer(
                        .error(
                            "ERR \(sub) must be 1 to N (\(replicas)), ONE, QUORUM, ALL or DEFAULT"),
                        context)
                }
                quorum = number
            }
            if sub == "W" {
                leaderless?.writeQuorum = quorum
            } else {
                leaderless?.readQuorum = quorum
            }
            return answer(.ok, context)
        case ("COHORT", "PUT"):
            guard arguments.count == 4 || arguments.count == 6 else {
                return answer(.error("ERR usage: COHORT PUT key value [CONTEXT ctx]"), context)
            }
            var explicit = VersionVector.empty
            if arguments.count == 6 {
                guard CommandExecutor.isNamed(arguments[4], "CONTEXT"),
                    let parsed = VersionVector(
                        contextString: String(decoding: arguments[5], as: UTF8.self))
                else {
                    return answer(
                        .error("ERR CONTEXT must be a context COHORT SIBLINGS returned"), context)
                }
                explicit = parsed
            }
            operation = .put(arguments[2], arguments[3], context: explicit)
        case ("INFO", _) where arguments.count == 2 && sub == "LEADERLESS":
            guard inFlight == 0 else { return false }
            let pending = beginAsync(.read, context: context)
            session.host.status { fields in
                let text =
                    "# Leaderless\r\n" + fields.map { "\($0.0):\($0.1)\r\n" }.joined()
                pending.finish(.bulkString(Array(text.utf8)), 0)
            }
            return true
        case ("PING", _), ("ECHO", _), ("HELLO", _), ("INFO", _), ("QUIT", _), ("AUTH", _),
            ("CLIENT", _), ("COMMAND", _), ("RESET", _), ("COHORT", _), ("SELECT", _):
            return nil
        default:
            return answer(
                .error(
                    "ERR '\(name.lowercased())' is not supported in leaderless keyspace "
                        + "\(session.host.definition.name) (GET, SET, DEL, COHORT SIBLINGS, "
                        + "COHORT PUT)"), context)
        }
        guard LeaderlessRuntime.isClientKey(operation.key) else {
            return answer(.error("ERR keys starting with 0xFF 0xFF are reserved"), context)
        }
        guard inFlight == 0 else { return false }
        run(operation, session, context: context)
        return true
    }

    private func refuse(arity command: String, _ context: ChannelHandlerContext) -> Bool {
        answer(.error("ERR wrong number of arguments for '\(command)' command"), context)
    }

    private func answer(_ value: RESPValue, _ context: ChannelHandlerContext) -> Bool {
        guard inFlight == 0 else { return false }
        var bytes = context.channel.allocator.buffer(capacity: 64)
        value.encode(into: &bytes, version: session.protocolVersion)
        appendSlot(bytes, context: context)
        return true
    }

    private func run(
        _ operation: LeaderlessOperation, _ leaderlessSession: LeaderlessSession,
        context: ChannelHandlerContext
    ) {
        let pending = beginAsync(operation.isRead ? .read : .write, context: context)
        let host = leaderlessSession.host
        let conflicts = host.parameters.conflicts
        /// Back on the connection's loop: keep the key's new context, then answer.
        let deliver: @Sendable (RESPValue, VersionVector?) -> Void = { reply, newContext in
            let done: @Sendable () -> Void = {
                let handler = pending.handler.value
                if let newContext { handler.leaderless?.remember(newContext, of: operation.key) }
                handler.clusterCommandDone(pending.slot, reply, token: 0)
            }
            if pending.loop.inEventLoop { done() } else { pending.loop.execute(done) }
        }
        switch operation {
        case .get(let key), .siblings(let key):
            let listsSiblings = if case .siblings = operation { true } else { false }
            host.read(key, quorum: leaderlessSession.readQuorum) { result in
                switch result {
                case .failed(let reason):
                    deliver(.error(Self.errorText(reason)), nil)
                case .found(let state, _):
                    let reply =
                        listsSiblings
                        ? Self.siblingsReply(state)
                        : Self.valueReply(state, key: key, conflicts: conflicts, host: host)
                    deliver(reply, state.context)
                }
            }
        case .put(let key, let value, let explicit):
            let context = explicit ?? leaderlessSession.context(of: key)
            host.write(
                key, value: value, context: context, quorum: leaderlessSession.writeQuorum
            ) { result in
                switch result {
                case .written(_, let newContext): deliver(.ok, newContext)
                case .failed(let reason): deliver(.error(Self.errorText(reason)), nil)
                }
            }
        case .delete(let key):
            // DEL supersedes what a read finds now, and answers whether it found a value.
            let (readQuorum, writeQuorum) = (
                leaderlessSession.readQuorum, leaderlessSession.writeQuorum
            )
            host.read(key, quorum: readQuorum) { result in
                switch result {
                case .failed(let reason):
                    deliver(.error(Self.errorText(reason)), nil)
                case .found(let state, _) where state.isDeleted:
                    deliver(.integer(0), state.context)
                case .found(let state, _):
                    host.write(
                        key, value: nil, context: state.context, quorum: writeQuorum
                    ) { result in
                        switch result {
                        case .written(_, let newContext): deliver(.integer(1), newContext)
                        case .failed(let reason): deliver(.error(Self.errorText(reason)), nil)
                        }
                    }
                }
            }
        }
    }

    /// A group's failure text as an error reply: NOQUORUM and ERR texts keep their code.
    static func errorText(_ reason: String) -> String {
        ["NOQUORUM", "ERR", "SIBLINGS"].contains { reason.hasPrefix($0) } ? reason : "ERR " + reason
    }

    /// GET's reply: nil, the value, or a conflict (under `siblings`) or the newest (`lww`).
    static func valueReply(
        _ state: SiblingSet, key: [UInt8], conflicts: LeaderlessParameters.Conflicts,
        host: LeaderlessHost
    ) -> RESPValue {
        let values = state.siblings.filter { !$0.isTombstone }
        if values.isEmpty { return .null }
        if values.count == 1 { return .bulkString(values[0].value!) }
        host.siblingReads.withLockedValue { $0 += 1 }
        switch conflicts {
        case .siblings:
            return .error(
                "CONFLICT \(values.count) concurrent values; COHORT SIBLINGS "
                    + "\(String(decoding: key.prefix(200), as: UTF8.self)) lists them")
        case .lww:
            let count = host.lwwResolvedReads.withLockedValue {
                $0 += 1
                return $0
            }
            let newest = values.max { ($0.stamp, $0.dot) < ($1.stamp, $1.dot) }!
            // The losers stay stored (COHORT SIBLINGS lists them); the log says so, for the
            // first resolution and every thousandth after it.
            if count == 1 || count % 1_000 == 0 {
                host.logger.info(
                    "lww read answered the newest of concurrent values; the others are kept",
                    metadata: [
                        "keyspace": "\(host.definition.name)",
                        "key": "\(String(decoding: key.prefix(200), as: UTF8.self))",
                        "winner": "\(newest.dot)@\(newest.stamp)",
                        "losers":
                            "\(values.filter { $0.dot != newest.dot }.map { "\($0.dot)@\($0.stamp)" })",
                        "resolved_reads": "\(count)",
                    ])
            }
            return .bulkString(newest.value!)
        }
    }

    /// COHORT SIBLINGS's reply: the context, then every value (tombstones left out).
    static func siblingsReply(_ state: SiblingSet) -> RESPValue {
        .array(
            [.bulkString(Array(state.context.contextString.utf8))]
                + state.values.map { .bulkString($0) })
    }
}

/// One leaderless command, parsed.
enum LeaderlessOperation: Sendable {
    case get([UInt8])
    case siblings([UInt8])
    /// A write; the context is explicit (COHORT PUT) or nil for the connection's remembered
    /// one (SET).
    case put([UInt8], [UInt8], context: VersionVector?)
    case delete([UInt8])

    var key: [UInt8] {
        switch self {
        case .get(let key), .siblings(let key), .put(let key, _, _), .delete(let key): key
        }
    }

    var isRead: Bool {
        switch self {
        case .get, .siblings: true
        case .put, .delete: false
        }
    }
}
