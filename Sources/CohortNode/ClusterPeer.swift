/// One founding member named in `--peers`: its name and the exact address others dial.
public struct ClusterPeer: Hashable, Sendable {
    public var name: String
    public var host: String
    public var port: Int

    public init(name: String, host: String, port: Int) {
        self.name = name
        self.host = host
        self.port = port
    }
}
