/// The settings of a ``NodeShell``.
public struct NodeShellConfiguration: Sendable {
    /// This node's name.
    public var nodeName: String
    /// How long a proxied command waits for the member's answer before it fails: a read with
    /// `TRYAGAIN`, a write with the uncertain-outcome error (it may have been applied). The
    /// member's own write timeout plus a margin, so a member's answer normally comes first.
    public var proxyTimeoutMillis: UInt64
    /// Most proxied commands waiting for their answers at once; past it a command is refused
    /// with `TRYAGAIN` (nothing was sent).
    public var proxyRequestsMax: Int = 65_536
    /// Proxied commands this node remembers having served (by sender and id), to serve a
    /// duplicated frame once; several times what senders have in flight.
    public var proxiedRememberedMax: Int = 262_144
    /// How long after a frame was sent a second copy of it may still arrive. A node serves no
    /// proxied command for this long after it starts, since what it served before a crash is
    /// forgotten. Zero for the NIO transport, which never delivers a frame twice (TCP, and a
    /// frame leaves its peer's queue when it is written); the simulator's network duplicates
    /// frames and delays them up to a bound, which it sets here.
    public var duplicateDelayMillisMax: UInt64 = 0
    /// Deliberate bugs for the simulator's broken variants; empty in production.
    public var faults: NodeShellFaults = []

    /// Settings for the node called `nodeName`.
    public init(nodeName: String, proxyTimeoutMillis: UInt64) {
        self.nodeName = nodeName
        self.proxyTimeoutMillis = proxyTimeoutMillis
    }
}
