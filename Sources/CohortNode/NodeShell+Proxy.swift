import CohortCore
import CohortReplication

extension NodeShell {
    /// A client's command for `keyspace`, which this node does not replicate: send it to one
    /// of the keyspace's data members. The answer comes as ``NodeShellAction/complete(_:reply:token:)``
    /// for `request`, from a later input (or at once when it cannot be sent).
    public mutating func proxy(
        _ request: RequestID, arguments: [[UInt8]], keyspace name: String, isWrite: Bool,
        token: UInt64, ackMode: AckMode, consistency: ReadConsistency, now: GroupTime
    ) {
        guard let keyspace = catalog.definition(named: name) else {
            return actions.append(
                .complete(request, reply: .error("ERR no such keyspace \(name)"), token: 0))
        }
        // Witnesses hold no data: only voters and learners serve proxied commands (never this
        // node, which has no copy of its own to serve from).
        let members = (keyspace.voters + keyspace.learners).filter {
            $0 != configuration.nodeName
        }
        guard !members.isEmpty else {
            return actions.append(
                .complete(
                    request, reply: .error("TRYAGAIN no other node holds keyspace \(name)'s data"),
                    token: 0))
        }
        let member = chooseMember(members, keyspace: keyspace.name, isWrite: isWrite, arguments)
        send(
            request, arguments: arguments, to: member, group: GroupID(keyspace.groupID),
            keyspace: keyspace.name, isWrite: isWrite, token: token, ackMode: ackMode,
            consistency: consistency, now: now)
    }

    /// A default-keyspace SCAN that continues a cursor `issuer` gave out: only the issuer
    /// knows where the next page starts, so it runs there (the default keyspace is not in the
    /// catalog; the host knows its members).
    public mutating func proxyDefaultScan(
        _ request: RequestID, arguments: [[UInt8]], issuer: String, token: UInt64,
        consistency: ReadConsistency, now: GroupTime
    ) {
        send(
            request, arguments: arguments, to: issuer, group: .defaultGroup,
            keyspace: KeyspaceDefinition.defaultName, isWrite: false, token: token,
            ackMode: .majority, consistency: consistency, now: now)
    }

    /// Sends a proxied command to `member` (bounded, with a deadline).
    private mutating func send(
        _ request: RequestID, arguments: [[UInt8]], to member: String, group: GroupID,
        keyspace: String, isWrite: Bool, token: UInt64, ackMode: AckMode,
        consistency: ReadConsistency, now: GroupTime
    ) {
        guard pending.count < configuration.proxyRequestsMax else {
            proxyRequestsRefused += 1
            return actions.append(
                .complete(
                    request,
                    reply: .error(
                        "TRYAGAIN \(configuration.proxyRequestsMax) proxied commands are waiting"
                            + " for their answers on this node (proxyRequestsMax); retry later"),
                    token: 0))
        }
        let id = nextProxyID
        nextProxyID += 1
        let deadline = now.deadline(after: configuration.proxyTimeoutMillis)
        pending[id] = PendingProxy(
            request: request, isWrite: isWrite, keyspace: keyspace, deadlineMillis: deadline)
        deadlineOrder.append((id, deadline))
        proxyRequestsSent += 1
        actions.append(
            .sendForward(
                ForwardMessage.proxied(
                    id: id, arguments: arguments, token: token, ackMode: ackMode,
                    consistency: consistency
                ).encoded(), to: LeaderGroup.nodeID(named: member), group: group))
    }

    /// The member a proxied command goes to.
    mutating func chooseMember(
        _ members: [String], keyspace: String, isWrite: Bool, _ arguments: [[UInt8]]
    ) -> String {
        if let cursor = ScanCursor.continuing(arguments),
            let issuer = members.first(where: { ScanCursor.tag(ofNode: $0) == cursor.tag })
        {
            // Only the issuer knows where its cursor's next page starts.
            return issuer
        }
        if isWrite {
            return members[preferredMember[keyspace, default: 0] % members.count]
        }
        readCursor &+= 1
        return members[readCursor % members.count]
    }

    /// A proxy frame from `peer` on group `group`: a command to serve here, or the answer to one
    /// of ours.
    public mutating func receiveProxyFrame(
        _ payload: [UInt8], group: GroupID, from peer: NodeID, now: GroupTime
    ) {
        switch ForwardMessage.decode(payload) {
        case .proxied(let id, let arguments, let token, let ackMode, let consistency):
            // The first delivery is served and answered; a duplicate is dropped (the sender
            // waits for one answer only).
            let first = proxiedSeen.firstDelivery(from: peer, id: id)
            guard first || configuration.faults.contains(.proxiedServedTwice) else {
                proxiedDuplicatesDropped += 1
                return
            }
            let command = ProxiedCommand(
                peer: peer, group: group, id: id, arguments: arguments, token: token,
                ackMode: ackMode, consistency: consistency)
            guard now.millis(since: startedAtMillis) >= configuration.duplicateDelayMillisMax
            else {
                // Found by the simulator: a member restarted, forgot what it had served, and
                // ran a delayed duplicate of a SET after later writes.
                let answer = Self.proxyAnswer(
                    to: command,
                    reply: .error(
                        "TRYAGAIN this node has just started and serves no proxied commands yet"),
                    token: 0)
                return actions.append(.sendForward(answer, to: peer, group: group))
            }
            // The default group is the host's and always runs here.
            guard group.isDefault || isRunning(group) else {
                let answer = Self.proxyAnswer(
                    to: command,
                    reply: NodeShell.groupNotHere,
                    token: 0)
                return actions.append(.sendForward(answer, to: peer, group: group))
            }
            proxiedServed += 1
            actions.append(.serveProxied(command))
        case .proxyResponse(let id, let bytes, let index):
            // An answer after the deadline (or a duplicate) finds nothing: dropped.
            guard let waiting = pending.removeValue(forKey: id) else { return }
            actions.append(
                .complete(waiting.request, reply: LeaderGroup.decodeReply(bytes), token: index))
        default:
            actions.append(.log(.warning, "dropping a malformed proxy frame", ["peer": "\(peer)"]))
        }
    }

    /// The answer to a proxied command for a group that does not run here.
    public static let groupNotHere = RESPValue.error(
        "TRYAGAIN this node does not replicate that keyspace (yet)")

    /// The frame that answers a proxied command with `reply` and the session's new `token`.
    public static func proxyAnswer(to command: ProxiedCommand, reply: RESPValue, token: UInt64)
        -> [UInt8]
    {
        var bytes: [UInt8] = []
        reply.encodeForPeers(into: &bytes)
        return ForwardMessage.proxyResponse(id: command.id, reply: bytes, index: token).encoded()
    }

    /// Time passed: fails proxied requests past their deadline; the next write for that
    /// keyspace tries another member.
    public mutating func tick(now: GroupTime) {
        while deadlineOrderStart < deadlineOrder.count {
            let (id, deadline) = deadlineOrder[deadlineOrderStart]
            guard deadline <= now.monotonicMillis else { break }
            deadlineOrderStart += 1
            guard let late = pending.removeValue(forKey: id) else { continue }
            proxyRequestsExpired += 1
            if late.isWrite { preferredMember[late.keyspace, default: 0] += 1 }
            actions.append(
                .complete(
                    late.request,
                    reply: late.isWrite
                        ? LeaderGroup.uncertain
                        : .error("TRYAGAIN no member of keyspace \(late.keyspace) answered"),
                    token: 0))
        }
        if deadlineOrderStart > 1_024 && deadlineOrderStart * 2 > deadlineOrder.count {
            deadlineOrder.removeFirst(deadlineOrderStart)
            deadlineOrderStart = 0
        }
    }

    /// The node stops: every proxied request still waiting is answered (it may have been
    /// applied).
    public mutating func shutDown() {
        for (_, waiting) in pending.sorted(by: { $0.key < $1.key }) {
            actions.append(
                .complete(
                    waiting.request,
                    reply: waiting.isWrite
                        ? LeaderGroup.uncertain : .error("TRYAGAIN the node is stopping"),
                    token: 0))
        }
        pending.removeAll()
        deadlineOrder.removeAll()
        deadlineOrderStart = 0
    }
}
