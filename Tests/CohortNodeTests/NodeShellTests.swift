import CohortCore
import CohortNode
import CohortReplication
import Testing

/// The node shell's decisions, without a network or threads: which groups open and close, and
/// where proxied commands go and how they end.
@Suite struct NodeShellTests {
    static let t0 = GroupTime(monotonicMillis: 10_000, wallMillis: 1_700_000_000_000)

    func makeShell(node: String = "n1", proxyRequestsMax: Int = 64) -> NodeShell {
        var configuration = NodeShellConfiguration(nodeName: node, proxyTimeoutMillis: 1_000)
        configuration.proxyRequestsMax = proxyRequestsMax
        // Started long enough ago to serve proxied commands.
        var started = Self.t0
        started.monotonicMillis -= 5_000
        return NodeShell(configuration: configuration, randomSeed: 42, now: started)
    }

    func keyspace(_ name: String, voters: [String], version: UInt32 = 0) -> KeyspaceDefinition {
        var definition = KeyspaceDefinition(name: name, voters: voters)
        definition.version = version
        return definition
    }

    func opened(_ actions: [NodeShellAction]) -> [String] {
        actions.compactMap { if case .openGroup(let d) = $0 { d.name } else { nil } }
    }

    /// Every forward frame sent: its decoded message and the peer.
    func forwards(_ actions: [NodeShellAction]) -> [(ForwardMessage, NodeID)] {
        actions.compactMap {
            guard case .sendForward(let bytes, let peer, _) = $0,
                let message = ForwardMessage.decode(bytes)
            else { return nil }
            return (message, peer)
        }
    }

    func completions(_ actions: [NodeShellAction]) -> [(RequestID, RESPValue, UInt64)] {
        actions.compactMap {
            if case .complete(let id, let reply, let token) = $0 { (id, reply, token) } else { nil }
        }
    }

    func errorText(_ value: RESPValue) -> String? {
        if case .error(let text) = value { text } else { nil }
    }

    // MARK: Groups

    @Test func aDefinitionNamingThisNodeOpensItsGroupAndNewerOnesUpdateIt() {
        var shell = makeShell()
        shell.keyspaceDefined(keyspace("orders", voters: ["n1", "n2", "n3"]))
        shell.keyspaceDefined(keyspace("elsewhere", voters: ["n2", "n3", "n4"]))
        #expect(opened(shell.drain()) == ["orders"])
        #expect(shell.isRunning(GroupID(KeyspaceDefinition.groupID(named: "orders"))))
        #expect(!shell.isRunning(GroupID(KeyspaceDefinition.groupID(named: "elsewhere"))))

        shell.keyspaceDefined(keyspace("orders", voters: ["n1", "n2", "n4"], version: 1))
        let actions = shell.drain()
        #expect(opened(actions).isEmpty)
        guard case .updateGroup(let definition) = actions.first else {
            Issue.record("expected an update, got \(actions)")
            return
        }
        #expect(definition.version == 1)
        // An older definition applied late (a log replayed after a restart) changes nothing.
        shell.keyspaceDefined(keyspace("orders", voters: ["n1", "n2", "n3"]))
        #expect(shell.drain().isEmpty)
    }

    @Test func theSavedCatalogOpensThisNodesGroupsAtStart() {
        var shell = makeShell(node: "n2")
        var catalog = KeyspaceCatalog()
        catalog.add(keyspace("b", voters: ["n2", "n3"]))
        catalog.add(keyspace("a", voters: ["n1", "n2"]))
        catalog.add(keyspace("c", voters: ["n1", "n3"]))
        shell.start(catalog: catalog)
        let actions = shell.drain()
        #expect(opened(actions) == ["a", "b"])
        // A keyspace that no longer names this node: whatever log of it remains is swept.
        let swept = actions.compactMap {
            if case .sweepGroup(let definition) = $0 { definition.name } else { nil }
        }
        #expect(swept == ["c"])
    }

    @Test func aGroupClosingIsReopenedOnlyAfterItsCloseFinished() {
        var shell = makeShell()
        let id = GroupID(KeyspaceDefinition.groupID(named: "orders"))
        shell.keyspaceDefined(keyspace("orders", voters: ["n1", "n2", "n3"]))
        _ = shell.drain()
        // Removed, and the group has left: the shell closes it.
        shell.keyspaceDefined(keyspace("orders", voters: ["n2", "n3", "n4"], version: 1))
        _ = shell.drain()
        shell.groupLeft(id)
        let closing = shell.drain()
        guard case .closeGroup(let closed, let name) = closing.first, closing.count == 1 else {
            Issue.record("expected one close, got \(closing)")
            return
        }
        #expect(closed == id && name == "orders")
        #expect(!shell.isRunning(id))
        // Added back while the close runs: nothing opens over the directory being closed.
        shell.keyspaceDefined(keyspace("orders", voters: ["n1", "n2", "n3", "n4"], version: 2))
        #expect(shell.drain().isEmpty)
        shell.groupClosed(id)
        #expect(opened(shell.drain()) == ["orders"])
        #expect(shell.isRunning(id))
    }

    @Test func aGroupClosedForGoodIsForgottenAndAFailedOpenCanBeRetried() {
        var shell = makeShell()
        let id = GroupID(KeyspaceDefinition.groupID(named: "orders"))
        shell.keyspaceDefined(keyspace("orders", voters: ["n1", "n2"]))
        _ = shell.drain()
        shell.groupOpenFailed(id)
        #expect(shell.groups[id] == nil)
        shell.keyspaceDefined(keyspace("orders", voters: ["n1", "n2", "n3"], version: 1))
        #expect(opened(shell.drain()) == ["orders"])
        shell.keyspaceDefined(keyspace("orders", voters: ["n2", "n3"], version: 2))
        _ = shell.drain()
        shell.groupLeft(id)
        _ = shell.drain()
        shell.groupClosed(id)
        #expect(shell.drain().isEmpty)
        #expect(shell.groups[id] == nil)
    }

    // MARK: Proxying

    @Test func aProxiedWriteGoesToAnotherDataMemberAndItsAnswerCompletesIt() {
        var shell = makeShell(node: "n4")
        var definition = keyspace("orders", voters: ["n1", "n2", "n3"])
        definition.witnesses = ["n4"]
        shell.keyspaceDefined(definition)
        // A witness runs the group (it votes) but holds no data: its clients are proxied.
        #expect(opened(shell.drain()) == ["orders"])
        shell.proxy(
            RequestID(7), arguments: [Array("SET".utf8), Array("k".utf8), Array("v".utf8)],
            keyspace: "orders", isWrite: true, token: 3, ackMode: .majority,
            consistency: .session, now: Self.t0)
        let sent = forwards(shell.drain())
        guard sent.count == 1, case .proxied(let id, let arguments, let token, _, _) = sent[0].0
        else {
            Issue.record("expected one proxied frame, got \(sent)")
            return
        }
        #expect(arguments.count == 3 && token == 3)
        #expect(
            ["n1", "n2", "n3"].map(LeaderGroup.nodeID(named:)).contains(sent[0].1))
        #expect(shell.proxyRequestsPending == 1)

        var reply: [UInt8] = []
        RESPValue.ok.encode(into: &reply, version: .resp3)
        let answer = ForwardMessage.proxyResponse(id: id, reply: reply, index: 19).encoded()
        shell.receiveProxyFrame(
            answer, group: GroupID(definition.groupID), from: sent[0].1, now: Self.t0)
        let done = completions(shell.drain())
        #expect(done.count == 1)
        #expect(done.first?.0 == RequestID(7) && done.first?.1 == .ok && done.first?.2 == 19)
        // The same answer delivered twice completes nothing more.
        shell.receiveProxyFrame(
            answer, group: GroupID(definition.groupID), from: sent[0].1, now: Self.t0)
        #expect(shell.drain().isEmpty)
        #expect(shell.proxyRequestsPending == 0)
    }

    @Test func anUnknownKeyspaceOrOneWithNoOtherMemberIsAnsweredAtOnce() {
        var shell = makeShell()
        shell.proxy(
            RequestID(1), arguments: [Array("GET".utf8), Array("k".utf8)], keyspace: "nope",
            isWrite: false, token: 0, ackMode: .majority, consistency: .linearizable,
            now: Self.t0)
        #expect(
            errorText(completions(shell.drain()).first?.1 ?? .ok) == "ERR no such keyspace nope")
        shell.keyspaceDefined(keyspace("solo", voters: ["n1"]))
        _ = shell.drain()
        shell.proxy(
            RequestID(2), arguments: [Array("GET".utf8), Array("k".utf8)], keyspace: "solo",
            isWrite: false, token: 0, ackMode: .majority, consistency: .linearizable,
            now: Self.t0)
        let text = errorText(completions(shell.drain()).first?.1 ?? .ok) ?? ""
        #expect(text.hasPrefix("TRYAGAIN no other node holds"))
    }

    @Test func waitingProxiedCommandsAreBounded() {
        var shell = makeShell(node: "n9", proxyRequestsMax: 2)
        shell.keyspaceDefined(keyspace("orders", voters: ["n1", "n2", "n3"]))
        for request in 1...3 {
            shell.proxy(
                RequestID(UInt64(request)), arguments: [Array("INCR".utf8), Array("c".utf8)],
                keyspace: "orders", isWrite: true, token: 0, ackMode: .majority,
                consistency: .session, now: Self.t0)
        }
        let actions = shell.drain()
        #expect(forwards(actions).count == 2)
        let refused = completions(actions)
        #expect(refused.count == 1 && refused.first?.0 == RequestID(3))
        #expect(errorText(refused.first?.1 ?? .ok)?.contains("proxyRequestsMax") == true)
        #expect(shell.proxyRequestsRefused == 1)
        let fields = Dictionary(uniqueKeysWithValues: shell.statusFields)
        #expect(fields["proxy_requests_waiting"] == "2")
        #expect(fields["proxy_requests_sent"] == "2")
        #expect(fields["proxy_requests_refused"] == "1")
    }

    @Test func deadlinesFollowTheMonotonicClockAndAnExpiredWriteMovesToAnotherMember() {
        var shell = makeShell(node: "n9")
        shell.keyspaceDefined(keyspace("orders", voters: ["n1", "n2", "n3"]))
        let write: [[UInt8]] = [Array("SET".utf8), Array("k".utf8), Array("v".utf8)]
        shell.proxy(
            RequestID(1), arguments: write, keyspace: "orders", isWrite: true, token: 0,
            ackMode: .majority, consistency: .session, now: Self.t0)
        let firstMember = forwards(shell.drain()).first?.1
        // The wall clock steps an hour forward, then a day back: no deadline moves.
        for wallStep in [Int64(3_600_000), -86_400_000] {
            var stepped = Self.t0
            stepped.monotonicMillis += 500
            stepped.wallMillis = UInt64(Int64(Self.t0.wallMillis) + wallStep)
            shell.tick(now: stepped)
            #expect(shell.drain().isEmpty)
        }
        var late = Self.t0
        late.monotonicMillis += 1_000
        shell.tick(now: late)
        let expired = completions(shell.drain())
        #expect(expired.count == 1 && expired.first?.1 == LeaderGroup.uncertain)
        #expect(shell.proxyRequestsExpired == 1)
        // The next write tries another member.
        shell.proxy(
            RequestID(2), arguments: write, keyspace: "orders", isWrite: true, token: 0,
            ackMode: .majority, consistency: .session, now: late)
        let secondMember = forwards(shell.drain()).first?.1
        #expect(firstMember != nil && secondMember != nil && firstMember != secondMember)
    }

    @Test func aContinuedScanGoesToTheMemberThatIssuedTheCursor() {
        var shell = makeShell(node: "n9")
        shell.keyspaceDefined(keyspace("orders", voters: ["n1", "n2", "n3"]))
        let cursor = ScanCursor(tag: ScanCursor.tag(ofNode: "n3"), serial: 99).rawValue
        for request in 1...6 {
            shell.proxy(
                RequestID(UInt64(request)),
                arguments: [Array("SCAN".utf8), Array("\(cursor)".utf8)], keyspace: "orders",
                isWrite: false, token: 0, ackMode: .majority, consistency: .any, now: Self.t0)
        }
        let peers = Set(forwards(shell.drain()).map(\.1))
        #expect(peers == [LeaderGroup.nodeID(named: "n3")])
        // Reads without a cursor go round the members.
        for request in 7...12 {
            shell.proxy(
                RequestID(UInt64(request)), arguments: [Array("SCAN".utf8), Array("0".utf8)],
                keyspace: "orders", isWrite: false, token: 0, ackMode: .majority,
                consistency: .any, now: Self.t0)
        }
        #expect(Set(forwards(shell.drain()).map(\.1)).count == 3)
    }

    /// The default keyspace is not in the catalog, but its SCAN cursors are node-local too: a
    /// continued one goes to its issuer, on the default group, which every node serves.
    @Test func aDefaultKeyspaceScanContinuesOnItsIssuer() {
        var shell = makeShell(node: "n1")
        let cursor = ScanCursor(tag: ScanCursor.tag(ofNode: "n2"), serial: 7).rawValue
        let arguments = [
            Array("SCAN".utf8), Array("\(cursor)".utf8), Array("COUNT".utf8), Array("5".utf8),
        ]
        shell.proxyDefaultScan(
            RequestID(1), arguments: arguments, issuer: "n2", token: 0, consistency: .any,
            now: Self.t0)
        let sent = forwards(shell.drain())
        #expect(sent.count == 1 && sent.first?.1 == LeaderGroup.nodeID(named: "n2"))
        guard case .proxied(let id, let forwarded, _, _, _)? = sent.first?.0 else {
            Issue.record("expected a proxied SCAN, got \(sent)")
            return
        }
        #expect(forwarded == arguments)
        // On the issuer, a proxied command for the default group is served (it always runs).
        var issuer = makeShell(node: "n2")
        issuer.receiveProxyFrame(
            ForwardMessage.proxied(
                id: id, arguments: arguments, token: 0, ackMode: .majority, consistency: .any
            ).encoded(), group: .defaultGroup, from: LeaderGroup.nodeID(named: "n1"),
            now: Self.t0)
        guard case .serveProxied(let command) = issuer.drain().first else {
            Issue.record("expected the SCAN served on its issuer")
            return
        }
        #expect(command.group == .defaultGroup && command.arguments == arguments)
    }

    @Test func aProxiedCommandIsServedOnlyWhereTheGroupRuns() {
        var shell = makeShell(node: "n2")
        shell.keyspaceDefined(keyspace("orders", voters: ["n1", "n2"]))
        _ = shell.drain()
        let frame = ForwardMessage.proxied(
            id: 5, arguments: [Array("GET".utf8), Array("k".utf8)], token: 0,
            ackMode: .majority, consistency: .linearizable
        ).encoded()
        let peer = LeaderGroup.nodeID(named: "n7")
        shell.receiveProxyFrame(
            frame, group: GroupID(KeyspaceDefinition.groupID(named: "orders")), from: peer,
            now: Self.t0)
        guard case .serveProxied(let command) = shell.drain().first else {
            Issue.record("expected the command served here")
            return
        }
        #expect(command.id == 5 && command.peer == peer)
        // A group that does not run here answers TRYAGAIN, to the sender.
        let another = ForwardMessage.proxied(
            id: 6, arguments: [Array("GET".utf8), Array("k".utf8)], token: 0,
            ackMode: .majority, consistency: .linearizable
        ).encoded()
        shell.receiveProxyFrame(another, group: GroupID(12_345), from: peer, now: Self.t0)
        let answers = forwards(shell.drain())
        guard answers.count == 1, case .proxyResponse(let id, let bytes, _) = answers[0].0 else {
            Issue.record("expected a refusal, got \(answers)")
            return
        }
        #expect(id == 6 && answers[0].1 == peer)
        #expect(errorText(LeaderGroup.decodeReply(bytes))?.hasPrefix("TRYAGAIN") == true)
        // A malformed frame is logged and dropped.
        shell.receiveProxyFrame([3, 1, 2], group: GroupID(12_345), from: peer, now: Self.t0)
        guard case .log(.warning, _, _) = shell.drain().first else {
            Issue.record("expected a warning")
            return
        }
    }

    @Test func aProxiedCommandDeliveredTwiceIsServedOnce() {
        // Found by the simulator: the network delivered a proxied SET twice, 600 ms apart, and
        // the member applied it twice, after a later write (a stale value came back).
        var shell = makeShell(node: "n2")
        shell.keyspaceDefined(keyspace("orders", voters: ["n1", "n2"]))
        _ = shell.drain()
        let group = GroupID(KeyspaceDefinition.groupID(named: "orders"))
        let frame = ForwardMessage.proxied(
            id: 9, arguments: [Array("SET".utf8), Array("k".utf8), Array("v".utf8)], token: 0,
            ackMode: .majority, consistency: .linearizable
        ).encoded()
        let sender = LeaderGroup.nodeID(named: "n7")
        shell.receiveProxyFrame(frame, group: group, from: sender, now: Self.t0)
        shell.receiveProxyFrame(frame, group: group, from: sender, now: Self.t0)
        let served = shell.drain().filter {
            if case .serveProxied = $0 { true } else { false }
        }
        #expect(served.count == 1)
        // The same id from another sender is another command.
        shell.receiveProxyFrame(
            frame, group: group, from: LeaderGroup.nodeID(named: "n8"), now: Self.t0)
        #expect(shell.drain().count == 1)
        // Operators see it.
        let fields = Dictionary(uniqueKeysWithValues: shell.statusFields)
        #expect(fields["proxied_served"] == "2")
        #expect(fields["proxied_duplicates_dropped"] == "1")
        #expect(fields["keyspace_groups_here"] == "orders")
    }

    @Test func aJustStartedNodeServesNoProxiedCommandWhileADuplicateMayArrive() {
        // Found by the simulator: a member that crashed and restarted had forgotten which
        // proxied SET it had served, and ran the network's delayed duplicate of it after later
        // writes. On a network that delivers copies up to 1 s late, it waits 1 s after a start.
        var configuration = NodeShellConfiguration(nodeName: "n2", proxyTimeoutMillis: 5_000)
        configuration.duplicateDelayMillisMax = 1_000
        var shell = NodeShell(configuration: configuration, randomSeed: 7, now: Self.t0)
        shell.keyspaceDefined(keyspace("orders", voters: ["n1", "n2"]))
        _ = shell.drain()
        let group = GroupID(KeyspaceDefinition.groupID(named: "orders"))
        let sender = LeaderGroup.nodeID(named: "n7")
        func frame(_ id: UInt64) -> [UInt8] {
            ForwardMessage.proxied(
                id: id, arguments: [Array("SET".utf8), Array("k".utf8), Array("v".utf8)],
                token: 0, ackMode: .majority, consistency: .linearizable
            ).encoded()
        }
        var early = Self.t0
        early.monotonicMillis += 999
        shell.receiveProxyFrame(frame(1), group: group, from: sender, now: early)
        let refused = forwards(shell.drain())
        guard refused.count == 1, case .proxyResponse(_, let bytes, _) = refused[0].0 else {
            Issue.record("expected a refusal, got \(refused)")
            return
        }
        #expect(errorText(LeaderGroup.decodeReply(bytes))?.hasPrefix("TRYAGAIN") == true)
        var later = Self.t0
        later.monotonicMillis += 1_000
        shell.receiveProxyFrame(frame(2), group: group, from: sender, now: later)
        guard case .serveProxied(let command) = shell.drain().first else {
            Issue.record("expected the command served once no duplicate can arrive")
            return
        }
        #expect(command.id == 2)
    }

    @Test func stoppingAnswersEveryWaitingRequest() {
        var shell = makeShell(node: "n9")
        shell.keyspaceDefined(keyspace("orders", voters: ["n1", "n2"]))
        shell.proxy(
            RequestID(1), arguments: [Array("SET".utf8), Array("k".utf8), Array("v".utf8)],
            keyspace: "orders", isWrite: true, token: 0, ackMode: .majority,
            consistency: .session, now: Self.t0)
        shell.proxy(
            RequestID(2), arguments: [Array("GET".utf8), Array("k".utf8)], keyspace: "orders",
            isWrite: false, token: 0, ackMode: .majority, consistency: .session, now: Self.t0)
        _ = shell.drain()
        shell.shutDown()
        let done = completions(shell.drain())
        #expect(done.map(\.0) == [RequestID(1), RequestID(2)])
        #expect(done.first { $0.0 == RequestID(1) }?.1 == LeaderGroup.uncertain)
        #expect(shell.proxyRequestsPending == 0)
    }
}
