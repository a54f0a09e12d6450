/// Where to dial a peer: exactly this host and port, never a rewritten or discovered address,
/// so operators can put proxies or NAT between nodes.
public struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    /// A host name or IP address.
    public var host: String
    /// A TCP port.
    public var port: Int

    /// Creates an address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`.
    public var description: String { "\(host):\(port)" }
}
