/// Checks that span options: each option parses on its own in ``ServerConfiguration/set(_:to:)``,
/// but some combinations would start a node that cannot work or is unsafe to expose.
extension ServerConfiguration {
    /// Why this configuration must not start a node, or nil when it may.
    public var validationError: ConfigurationError? {
        guard isClustered else { return nil }
        // A founding node that is not among the voters it is given never counts itself in a
        // quorum and never campaigns: the cluster would start and silently elect no leader.
        // A joiner is told the others and waits to be added, so it is exempt.
        if !joins, !peers.contains(where: { $0.name == nodeName }) {
            let listed = peers.map(\.name).joined(separator: ",")
            return .inconsistent(
                "--peers lists \(listed) but not this node (--id \(nodeName)); list every voter including this node, or start with --join"
            )
        }
        return nil
    }

    /// Throws ``validationError`` when there is one.
    public func validate() throws(ConfigurationError) {
        if let error = validationError { throw error }
    }
}
