/// A client's command with the identity the state machine uses to apply it at most once:
/// each client has one request outstanding, numbered 1, 2, 3…, so a duplicate (the network
/// duplicated it, or the client re-sent it after a redirect) is recognized by its number.
public struct KeyValueRequest: Hashable, Sendable {
    /// The issuing client.
    public var clientID: UInt64
    /// The client's request number, starting at 1 and growing by one per request.
    public var sequence: UInt64
    /// What to do.
    public var command: KeyValueCommand

    /// A request `sequence` of `clientID`.
    public init(clientID: UInt64, sequence: UInt64, command: KeyValueCommand) {
        self.clientID = clientID
        self.sequence = sequence
        self.command = command
    }

    /// Version byte of the encoding, so a change of format is detected rather than misread.
    private static let formatVersion: UInt8 = 1

    /// The bytes of a log entry carrying this request.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.byte(Self.formatVersion)
        writer.word(clientID)
        writer.word(sequence)
        switch command {
        case .set(let key, let value):
            writer.byte(1)
            writer.integer(key)
            writer.integer(value)
        case .compareAndSet(let key, let expected, let new):
            writer.byte(2)
            writer.integer(key)
            writer.byte(expected == nil ? 0 : 1)
            writer.integer(expected ?? 0)
            writer.integer(new)
        case .read(let key):
            writer.byte(3)
            writer.integer(key)
        }
        return writer.bytes
    }

    /// Decodes a log entry's bytes; nil for bytes that are not a request (for example an
    /// empty entry a new leader appends, or a configuration change).
    public init?(decoding bytes: [UInt8]) {
        var reader = ByteReader(bytes: bytes)
        guard reader.byte() == Self.formatVersion,
            let clientID = reader.word(), let sequence = reader.word(), let tag = reader.byte()
        else { return nil }
        let command: KeyValueCommand
        switch tag {
        case 1:
            guard let key = reader.integer(), let value = reader.integer() else { return nil }
            command = .set(key: key, value: value)
        case 2:
            guard let key = reader.integer(), let present = reader.byte(),
                let expected = reader.integer(), let new = reader.integer()
            else { return nil }
            command = .compareAndSet(key: key, expected: present == 1 ? expected : nil, new: new)
        case 3:
            guard let key = reader.integer() else { return nil }
            command = .read(key: key)
        default:
            return nil
        }
        guard reader.isAtEnd else { return nil }
        self.init(clientID: clientID, sequence: sequence, command: command)
    }
}
