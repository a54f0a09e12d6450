/// Deliberate bugs in the node shell's policy, switched on only by the simulator's broken
/// variants (DESIGN.md §6). Never set in production: `NodeShellConfiguration.faults` is empty
/// unless a test or `cohort sim --broken` sets it.
public struct NodeShellFaults: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// A proxied command the network delivered twice is served twice.
    public static let proxiedServedTwice = NodeShellFaults(rawValue: 1 << 0)
}
