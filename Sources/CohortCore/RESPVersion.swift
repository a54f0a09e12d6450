/// The protocol version a connection speaks: RESP2 by default, RESP3 after `HELLO 3`.
public enum RESPVersion: Sendable, Hashable {
    /// RESP2: replies that only RESP3 can express are down-converted when encoded.
    case resp2
    /// RESP3: maps, sets, doubles, booleans, verbatim strings, big numbers and pushes are native.
    case resp3
}
