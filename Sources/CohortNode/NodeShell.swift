import CohortCore
import CohortReplication

/// The node above its replication groups, as a state machine without I/O (DESIGN.md §2): which
/// keyspace groups run here and when they open and close, and the proxying of commands for
/// keyspaces this node does not replicate to a node that does. The NIO host (`ClusterNode`)
/// carries out its ``NodeShellAction``s with threads, files and the peer transport; the same
/// decisions are unit-tested here without them.
///
/// Inputs are its mutating methods, named for events; outputs are taken with ``drain()``.
/// Time comes in as ``GroupTime``, and deadlines use its monotonic reading only.
///
/// Groups. A keyspace definition (from the default group's log, or the saved catalog at start)
/// that names this node opens the keyspace's group; a running group is handed every newer
/// definition, and moves its own membership (see ``LeaderGroup``); once it has left, the shell
/// closes it. A close finishes asynchronously in the host: a definition that names this node
/// again meanwhile reopens the group only after ``groupClosed(_:)``, so two instances never
/// hold one data directory.
///
/// Proxying. Every node serves every keyspace (DESIGN.md §4): a command for a keyspace this
/// node does not replicate goes to one of its data members as a ``ForwardMessage/proxied``
/// frame, which that member runs as its own client's (``NodeShellAction/serveProxied(_:)``).
/// Writes go to one preferred member at a time (a session's pipelined writes stay in order)
/// and move on after a timeout; reads go round the members; a SCAN that continues a cursor
/// goes to the member that issued it (``ScanCursor``). Waiting requests are bounded
/// (``NodeShellConfiguration/proxyRequestsMax``) and expire at a deadline. A member serves a
/// proxied command once per (sender, id); on a network that duplicates frames it serves none
/// for as long as a duplicate may be delayed after it starts
/// (``NodeShellConfiguration/duplicateDelayMillisMax``), since what it served before a crash
/// is forgotten and a late copy of it must not run twice.
public struct NodeShell: Sendable {
    /// A keyspace group's state on this node.
    public enum GroupState: Hashable, Sendable {
        /// Opened (or being opened) with this definition, the latest it was handed.
        case running(KeyspaceDefinition)
        /// Being closed; reopened with the definition, if any, once the close is done.
        case closing(reopen: KeyspaceDefinition?)
    }

    /// A proxied request waiting for its answer.
    struct PendingProxy: Sendable {
        var request: RequestID
        var isWrite: Bool
        var keyspace: String
        var deadlineMillis: UInt64
    }

    /// Its settings.
    public let configuration: NodeShellConfiguration
    /// This node.
    public let nodeID: NodeID
    /// The keyspaces the cluster has defined, as this node has applied them.
    public internal(set) var catalog = KeyspaceCatalog()
    /// Keyspace groups on this node (the default group is the host's and always runs).
    public internal(set) var groups: [GroupID: GroupState] = [:]

    /// Proxied requests by their id on the wire.
    var pending: [UInt64: PendingProxy] = [:]
    /// Ids of proxied requests in deadline order (one timeout for all, so the order sent).
    var deadlineOrder: [(id: UInt64, deadlineMillis: UInt64)] = []
    var deadlineOrderStart = 0
    var nextProxyID: UInt64
    /// Per keyspace, the data member writes go to (an index into its members).
    var preferredMember: [String: Int] = [:]
    var readCursor = 0
    /// Proxied commands taken here, by sender and id: a frame delivered twice is served once
    /// (a write served twice would be applied twice).
    var proxiedSeen: DeliveryFilter
    /// Proxied requests that expired without an answer, since start.
    public internal(set) var proxyRequestsExpired = 0
    /// Proxied requests refused because ``NodeShellConfiguration/proxyRequestsMax`` were
    /// waiting, since start.
    public internal(set) var proxyRequestsRefused = 0
    /// Requests this node proxied to another, since start.
    public internal(set) var proxyRequestsSent = 0
    /// Commands other nodes proxied here that this node served, and duplicate deliveries of
    /// them it dropped, since start.
    public internal(set) var proxiedServed = 0
    public internal(set) var proxiedDuplicatesDropped = 0

    /// INFO fields for operators: the proxy table and its counters.
    public var statusFields: [(String, String)] {
        [
            ("proxy_requests_waiting", "\(pending.count)"),
            ("proxy_requests_sent", "\(proxyRequestsSent)"),
            ("proxy_requests_expired", "\(proxyRequestsExpired)"),
            ("proxy_requests_refused", "\(proxyRequestsRefused)"),
            ("proxied_served", "\(proxiedServed)"),
            ("proxied_duplicates_dropped", "\(proxiedDuplicatesDropped)"),
            (
                "keyspace_groups_here",
                groups.keys.sorted().compactMap { id -> String? in
                    guard case .running(let definition) = groups[id] else { return nil }
                    return definition.name
                }.joined(separator: ",")
            ),
        ]
    }

    var actions: [NodeShellAction] = []
    /// When this node started, on the monotonic clock.
    let startedAtMillis: UInt64

    /// A shell for a node starting `now`. `randomSeed` picks where proxy request ids start, so
    /// an answer delayed across a restart cannot match a new request.
    public init(configuration: NodeShellConfiguration, randomSeed: UInt64, now: GroupTime) {
        self.startedAtMillis = now.monotonicMillis
        self.configuration = configuration
        self.nodeID = LeaderGroup.nodeID(named: configuration.nodeName)
        // The top bit stays clear: ids never wrap within a life.
        self.nextProxyID = (randomSeed >> 1) | 1
        self.proxiedSeen = DeliveryFilter(countMax: configuration.proxiedRememberedMax)
    }

    /// Proxied requests waiting for their answers.
    public var proxyRequestsPending: Int { pending.count }

    /// Takes the actions produced so far.
    public mutating func drain() -> [NodeShellAction] {
        defer { actions.removeAll(keepingCapacity: true) }
        return actions
    }

    // MARK: Groups

    /// The node starts with the catalog it saved: opens the groups of this node's keyspaces.
    public mutating func start(catalog saved: KeyspaceCatalog) {
        catalog = saved
        for definition in saved.sorted {
            if isMember(definition) {
                follow(definition)
            } else {
                actions.append(.sweepGroup(definition))
            }
        }
    }

    /// The default group saved a changed catalog (a definition added or replaced, or an entry
    /// from a newer node kept).
    public mutating func catalogSaved(_ saved: KeyspaceCatalog) {
        catalog = saved
    }

    /// The default group applied a keyspace definition (new, or a newer version).
    public mutating func keyspaceDefined(_ definition: KeyspaceDefinition) {
        if let known = catalog.definition(named: definition.name),
            known.version > definition.version
        {
            // An older definition applied late changes nothing here.
            return
        }
        _ = catalog.adopt(definition)
        follow(definition)
    }

    /// A keyspace group has left its group (the keyspace no longer names this node, and the
    /// group's leader has removed it): close it.
    public mutating func groupLeft(_ id: GroupID) {
        guard case .running(let definition) = groups[id] else { return }
        groups[id] = .closing(reopen: reopening(definition.name))
        actions.append(.closeGroup(id, keyspace: definition.name))
    }

    /// The host finished closing group `id`.
    public mutating func groupClosed(_ id: GroupID) {
        guard case .closing(let reopen) = groups[id] else { return }
        if let reopen {
            groups[id] = .running(reopen)
            actions.append(.openGroup(reopen))
        } else {
            groups[id] = nil
        }
    }

    /// The host could not open group `id` (it logged why): the other members go on without
    /// this node; a later definition tries again.
    public mutating func groupOpenFailed(_ id: GroupID) {
        if case .running = groups[id] { groups[id] = nil }
    }

    /// Follows a definition: opens the group when this node is a member and it does not run
    /// here, hands a running group the definition, and remembers it for a group closing.
    mutating func follow(_ definition: KeyspaceDefinition) {
        let id = GroupID(definition.groupID)
        switch groups[id] {
        case .running:
            groups[id] = .running(definition)
            actions.append(.updateGroup(definition))
        case .closing:
            groups[id] = .closing(reopen: isMember(definition) ? definition : nil)
        case nil:
            guard isMember(definition) else { return }
            groups[id] = .running(definition)
            actions.append(.openGroup(definition))
        }
    }

    /// The catalog's definition of `name` when it names this node (the group then opens again
    /// after its close).
    func reopening(_ name: String) -> KeyspaceDefinition? {
        guard let latest = catalog.definition(named: name), isMember(latest) else { return nil }
        return latest
    }

    func isMember(_ definition: KeyspaceDefinition) -> Bool {
        definition.members.contains(configuration.nodeName)
    }

    /// Whether keyspace group `id` runs here and takes commands.
    public func isRunning(_ id: GroupID) -> Bool {
        if case .running = groups[id] { return true }
        return false
    }
}
