/// What followers and the leader say to each other about client commands, over the peer
/// transport's forward frames. A follower forwards a write (or WAIT) it cannot serve; the
/// leader answers with the reply already encoded as RESP3 and the log index that carries it.
public enum ForwardMessage: Hashable, Sendable {
    /// Run `arguments` as a client of the leader would; `token` is the session's token (for
    /// WAIT), `ackMode` the session's acknowledgement mode.
    case request(id: UInt64, arguments: [[UInt8]], token: UInt64, ackMode: AckMode)
    /// The answer to request `id`: the reply as RESP3 bytes, and the log index of the write
    /// (0 when it wrote nothing).
    case response(id: UInt64, reply: [UInt8], index: UInt64)

    /// Most arguments in one forwarded request (Redis's own bulk-count limit is larger; a
    /// forward is refused rather than trusted beyond this).
    public static let argumentsMax = 1 << 20

    /// The byte form: kind u8 (1 request, 2 response) · id u64 · then for a request: token
    /// u64 · ack mode u8 · argument count u32 · (length u32 · bytes)*; for a response: index
    /// u64 · reply length u32 · reply.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .request(let id, let arguments, let token, let ackMode):
            out.append(1)
            ByteCoding.append(id, to: &out)
            ByteCoding.append(token, to: &out)
            out.append(UInt8(AckMode.allCases.firstIndex(of: ackMode)!))
            ByteCoding.append(UInt32(arguments.count), to: &out)
            for argument in arguments { ByteCoding.appendBytes(argument, to: &out) }
        case .response(let id, let reply, let index):
            out.append(2)
            ByteCoding.append(id, to: &out)
            ByteCoding.append(index, to: &out)
            ByteCoding.appendBytes(reply, to: &out)
        }
        return out
    }

    /// Decodes a message; nil for anything malformed.
    public static func decode(_ bytes: [UInt8]) -> ForwardMessage? {
        var reader = ByteCoding.Reader(bytes)
        guard let kind = reader.byte(), let id = reader.uint64() else { return nil }
        switch kind {
        case 1:
            guard let token = reader.uint64(), let mode = reader.byte(),
                Int(mode) < AckMode.allCases.count, let count = reader.uint32(),
                Int(count) <= min(argumentsMax, reader.remaining / 4)
            else { return nil }
            var arguments: [[UInt8]] = []
            arguments.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let argument = reader.lengthPrefixed() else { return nil }
                arguments.append(argument)
            }
            guard reader.remaining == 0 else { return nil }
            return .request(
                id: id, arguments: arguments, token: token, ackMode: AckMode.allCases[Int(mode)])
        case 2:
            guard let index = reader.uint64(), let reply = reader.lengthPrefixed(),
                reader.remaining == 0
            else { return nil }
            return .response(id: id, reply: reply, index: index)
        default:
            return nil
        }
    }
}
