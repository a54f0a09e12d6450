/// Where a member's peer port listens, as a membership entry names it.
public struct PeerEndpoint: Hashable, Sendable {
    /// Host name or address.
    public var host: String
    /// TCP port.
    public var port: Int

    /// An endpoint.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}
