import CohortCore
import CohortNode
import CohortReplication
import Logging
import NIOCore

/// Lets every node serve every keyspace (DESIGN.md §4: any node routes a request to the
/// owner). A client of a node outside a keyspace has its reads, writes and WAITs proxied to a
/// node that replicates it, which runs them as its own client's (forwarding writes to its
/// leader, gating reads by the session's consistency and token) and answers with the reply
/// and the session's new token.
///
/// Both sides live on the default group's raft loop, where the transport delivers forwards:
/// state here is loop-confined.
final class KeyspaceProxy: @unchecked Sendable {
    /// A command sent to a member, waiting for its answer.
    private struct Pending {
        var isWrite: Bool
        var keyspace: String
        var deadlineMillis: UInt64
        var completion: @Sendable (RESPValue, UInt64) -> Void
    }

    private let loop: any EventLoop
    private let transport: PeerTransport
    private let logger: Logger
    private let localGroup: @Sendable (UInt64) -> ClusterNode.Group?
    /// The catalog as this node has applied it: members are looked up when a command is
    /// sent, so a session keeps working while the keyspace's members change.
    private let catalog: @Sendable () -> KeyspaceCatalog
    /// How long to wait for a member beyond the member's own write timeout.
    private let timeoutMillis: UInt64
    private var pending: [UInt64: Pending] = [:]
    private var nextID: UInt64 = 1
    /// Per keyspace, the data member writes go to; moves on after a timeout. One member at a
    /// time keeps a session's pipelined writes in order (one ordered link to it, and one
    /// from it to the leader).
    private var preferredMember: [String: Int] = [:]
    /// Reads are independent of each other: they go round the data members, spreading load.
    private var readCursor = 0

    init(
        loop: any EventLoop, transport: PeerTransport, logger: Logger, timeoutMillis: UInt64,
        localGroup: @escaping @Sendable (UInt64) -> ClusterNode.Group?,
        catalog: @escaping @Sendable () -> KeyspaceCatalog
    ) {
        self.loop = loop
        self.transport = transport
        self.logger = logger
        self.timeoutMillis = timeoutMillis
        self.localGroup = localGroup
        self.catalog = catalog
    }

    /// Sends a client's command for `keyspace` to one of its data members. `completion` gets
    /// the reply and the session's new token, on the raft loop. Any thread.
    func send(
        _ arguments: [[UInt8]], to name: String, isWrite: Bool, token: UInt64,
        ackMode: AckMode, consistency: ReadConsistency,
        completion: @escaping @Sendable (RESPValue, UInt64) -> Void
    ) {
        loop.execute { [self] in
            // Witnesses hold no data: only voters and learners serve proxied commands (never
            // this node, which has no copy of its own to serve from).
            let me = transport.configuration.nodeID
            guard let keyspace = catalog().definition(named: name) else {
                return completion(.error("ERR no such keyspace \(name)"), 0)
            }
            let members = (keyspace.voters + keyspace.learners).filter {
                ReplicationDriver.nodeID(named: $0) != me
            }
            guard !members.isEmpty else {
                return completion(
                    .error("TRYAGAIN no other node holds keyspace \(name)'s data"), 0)
            }
            let choice: Int
            if isWrite {
                choice = preferredMember[keyspace.name, default: 0] % members.count
            } else {
                readCursor &+= 1
                choice = readCursor % members.count
            }
            let member = ReplicationDriver.nodeID(named: members[choice])
            let id = nextID
            nextID += 1
            pending[id] = Pending(
                isWrite: isWrite, keyspace: keyspace.name,
                deadlineMillis: WallClock.nowMillis() + timeoutMillis, completion: completion)
            transport.sendForward(
                ForwardMessage.proxied(
                    id: id, arguments: arguments, token: token, ackMode: ackMode,
                    consistency: consistency
                ).encoded(), to: member, group: keyspace.groupID)
        }
    }

    /// A proxied request or answer from `peer` for group `groupID`. On the raft loop.
    func receive(_ payload: [UInt8], group groupID: UInt64, from peer: NodeID) {
        switch ForwardMessage.decode(payload) {
        case .proxied(let id, let arguments, let token, let ackMode, let consistency):
            let transport = self.transport
            let respond: @Sendable (RESPValue, UInt64) -> Void = { reply, index in
                var bytes: [UInt8] = []
                reply.encode(into: &bytes, version: .resp3)
                transport.sendForward(
                    ForwardMessage.proxyResponse(id: id, reply: bytes, index: index).encoded(),
                    to: peer, group: groupID)
            }
            guard let group = localGroup(groupID) else {
                return respond(
                    .error("TRYAGAIN this node does not replicate that keyspace (yet)"), 0)
            }
            Self.serve(
                arguments, group: group, token: token, ackMode: ackMode, consistency: consistency,
                respond: respond)
        case .proxyResponse(let id, let bytes, let index):
            guard let request = pending.removeValue(forKey: id) else { return }
            request.completion(LeaderGroup.decodeReply(bytes), index)
        default:
            logger.warning("dropping a malformed proxy frame", metadata: ["peer": "\(peer)"])
        }
    }

    /// Runs a proxied command as a client of this node in `group` would.
    static func serve(
        _ arguments: [[UInt8]], group: ClusterNode.Group, token: UInt64, ackMode: AckMode,
        consistency: ReadConsistency, respond: @escaping @Sendable (RESPValue, UInt64) -> Void
    ) {
        let executor = group.executor
        let session = ClientSession(id: 0, address: "proxy", authenticated: true)
        switch ClusterCommandKind(arguments, executor: executor, session: session) {
        case .write, .wait:
            group.driver.submitWrite(
                arguments, token: token, ackMode: ackMode, completion: respond)
        case .read:
            group.driver.submitRead(consistency: consistency, token: token) { gate in
                switch gate {
                case .proceed(let applied):
                    var session = session
                    let outcome = executor.execute(
                        arguments, session: &session, nowMillis: WallClock.nowMillis())
                    respond(outcome.reply, applied)
                case .refused(let reply):
                    respond(reply, 0)
                }
            }
        case .local:
            var session = session
            let outcome = executor.execute(
                arguments, session: &session, nowMillis: WallClock.nowMillis())
            respond(outcome.reply, 0)
        }
    }

    /// Fails what waited too long; the next command for that keyspace tries another member.
    func expire(nowMillis: UInt64) {
        let late = pending.filter { $0.value.deadlineMillis <= nowMillis }
        for (id, request) in late {
            pending[id] = nil
            preferredMember[request.keyspace, default: 0] += 1
            request.completion(
                request.isWrite
                    ? LeaderGroup.uncertain
                    : .error("TRYAGAIN no member of keyspace \(request.keyspace) answered"), 0)
        }
    }
}
