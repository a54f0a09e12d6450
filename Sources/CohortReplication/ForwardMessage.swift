/// What followers and the leader say to each other about client commands, over the peer
/// transport's forward frames. A follower forwards a write (or WAIT) it cannot serve; the
/// leader answers with the reply already encoded (`RESPValue.encodeForPeers`) and the log index that carries it.
///
/// A node that does not replicate a keyspace proxies its clients' commands for it to a node
/// that does (``proxied(id:arguments:token:ackMode:consistency:)``), which runs them as its
/// own client would and answers with ``proxyResponse(id:reply:index:)``.
public enum ForwardMessage: Hashable, Sendable {
    /// Run `arguments` as a client of the leader would; `token` is the session's token (for
    /// WAIT), `ackMode` the session's acknowledgement mode, `term` the term of the leader the
    /// follower sent it to: a leader takes only its own term's forwards, so a copy the network
    /// delays past a restart (which ends a leader's term, and the memory of what it took) is
    /// never applied again.
    case request(id: UInt64, arguments: [[UInt8]], token: UInt64, ackMode: AckMode, term: UInt64)
    /// The answer to request `id`: the reply encoded for peers, and the log index of the write
    /// (0 when it wrote nothing).
    case response(id: UInt64, reply: [UInt8], index: UInt64)
    /// Run `arguments` (a read, a write or WAIT) for a client of a node outside the keyspace:
    /// `token`, `ackMode` and `consistency` are that client's session's.
    case proxied(
        id: UInt64, arguments: [[UInt8]], token: UInt64, ackMode: AckMode,
        consistency: ReadConsistency)
    /// The answer to proxied request `id`: the reply encoded for peers and the log index the
    /// session has now written or observed (0 when none).
    case proxyResponse(id: UInt64, reply: [UInt8], index: UInt64)

    /// The kind byte that starts each form.
    static let requestKind: UInt8 = 1
    static let responseKind: UInt8 = 2
    static let proxiedKind: UInt8 = 3
    static let proxyResponseKind: UInt8 = 4

    /// Whether `payload` is a proxied request or its response: the node, not a keyspace's
    /// group, handles those (a proxying node has no group for the keyspace).
    public static func isProxy(_ payload: [UInt8]) -> Bool {
        payload.first == proxiedKind || payload.first == proxyResponseKind
    }

    /// Most arguments in one forwarded request (Redis's own bulk-count limit is larger; a
    /// forward is refused rather than trusted beyond this).
    public static let argumentsMax = 1 << 20

    /// The byte form: kind u8 (1 request, 2 response, 3 proxied, 4 proxy response) · id u64 ·
    /// then for a request: token u64 · ack mode u8 · leader term u64 · argument count u32 ·
    /// (length u32 · bytes)*; a proxied request has no term but, after the ack mode, the
    /// consistency (u8: 0
    /// linearizable, 1 session, 2 bounded staleness, 3 any) and its bound in ms (u64); for a
    /// response: index u64 · reply length u32 · reply.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .request(let id, let arguments, let token, let ackMode, let term):
            Self.appendRequest(
                kind: Self.requestKind, id: id, arguments: arguments, token: token,
                ackMode: ackMode, term: term, consistency: nil, to: &out)
        case .proxied(let id, let arguments, let token, let ackMode, let consistency):
            Self.appendRequest(
                kind: Self.proxiedKind, id: id, arguments: arguments, token: token,
                ackMode: ackMode, term: nil, consistency: consistency, to: &out)
        case .response(let id, let reply, let index):
            Self.appendResponse(
                kind: Self.responseKind, id: id, reply: reply, index: index, to: &out)
        case .proxyResponse(let id, let reply, let index):
            Self.appendResponse(
                kind: Self.proxyResponseKind, id: id, reply: reply, index: index, to: &out)
        }
        return out
    }

    private static func appendRequest(
        kind: UInt8, id: UInt64, arguments: [[UInt8]], token: UInt64, ackMode: AckMode,
        term: UInt64?, consistency: ReadConsistency?, to out: inout [UInt8]
    ) {
        out.append(kind)
        ByteCoding.append(id, to: &out)
        ByteCoding.append(token, to: &out)
        out.append(ackMode.wireByte)
        if let term { ByteCoding.append(term, to: &out) }
        if let consistency {
            switch consistency {
            case .linearizable: out.append(0)
            case .session: out.append(1)
            case .boundedStaleness: out.append(2)
            case .any: out.append(3)
            }
            if case .boundedStaleness(let millis) = consistency {
                ByteCoding.append(millis, to: &out)
            } else {
                ByteCoding.append(UInt64(0), to: &out)
            }
        }
        ByteCoding.append(UInt32(arguments.count), to: &out)
        for argument in arguments { ByteCoding.appendBytes(argument, to: &out) }
    }

    private static func appendResponse(
        kind: UInt8, id: UInt64, reply: [UInt8], index: UInt64, to out: inout [UInt8]
    ) {
        out.append(kind)
        ByteCoding.append(id, to: &out)
        ByteCoding.append(index, to: &out)
        ByteCoding.appendBytes(reply, to: &out)
    }

    /// Decodes a message; nil for anything malformed.
    public static func decode(_ bytes: [UInt8]) -> ForwardMessage? {
        var reader = ByteCoding.Reader(bytes)
        guard let kind = reader.byte(), let id = reader.uint64() else { return nil }
        switch kind {
        case requestKind, proxiedKind:
            guard let token = reader.uint64(), let mode = reader.byte(),
                let ackMode = AckMode(wireByte: mode)
            else { return nil }
            var consistency = ReadConsistency.linearizable
            var term: UInt64 = 0
            if kind == requestKind {
                guard let leaderTerm = reader.uint64() else { return nil }
                term = leaderTerm
            }
            if kind == proxiedKind {
                guard let consistencyKind = reader.byte(), let millis = reader.uint64() else {
                    return nil
                }
                switch consistencyKind {
                case 0: consistency = .linearizable
                case 1: consistency = .session
                case 2: consistency = .boundedStaleness(millis: millis)
                case 3: consistency = .any
                default: return nil
                }
            }
            guard let count = reader.uint32(),
                Int(count) <= min(argumentsMax, reader.remaining / 4)
            else { return nil }
            var arguments: [[UInt8]] = []
            arguments.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let argument = reader.lengthPrefixed() else { return nil }
                arguments.append(argument)
            }
            guard reader.remaining == 0 else { return nil }
            if kind == proxiedKind {
                return .proxied(
                    id: id, arguments: arguments, token: token, ackMode: ackMode,
                    consistency: consistency)
            }
            return .request(
                id: id, arguments: arguments, token: token, ackMode: ackMode, term: term)
        case responseKind, proxyResponseKind:
            guard let index = reader.uint64(), let reply = reader.lengthPrefixed(),
                reader.remaining == 0
            else { return nil }
            if kind == proxyResponseKind {
                return .proxyResponse(id: id, reply: reply, index: index)
            }
            return .response(id: id, reply: reply, index: index)
        default:
            return nil
        }
    }
}
