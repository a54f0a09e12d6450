/// Checks that span options: each option parses on its own in ``ServerConfiguration/set(_:to:)``,
/// but some combinations would start a node that cannot work or is unsafe to expose.
extension ServerConfiguration {
    /// The cluster secret when none is configured. It is public knowledge, so it only guards
    /// against misconfiguration, and only on loopback.
    public static let defaultClusterSecret = "cohort"

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
        // Commands forwarded between nodes run authenticated, so a peer port that others can
        // reach, guarded by a secret everyone knows, lets anyone bypass AUTH.
        if clusterSecret == Self.defaultClusterSecret, !Self.isLoopback(peerBindAddress) {
            return .inconsistent(
                "the peer port binds to \(peerBindAddress) (--peer-bind) with the default cluster secret; forwarded commands run authenticated, so anyone reaching that port could bypass AUTH: set --cluster-secret, or bind peers to loopback"
            )
        }
        return nil
    }

    /// Throws ``validationError`` when there is one.
    public func validate() throws(ConfigurationError) {
        if let error = validationError { throw error }
    }

    /// Whether `host` names only this machine: `localhost`, 127.0.0.0/8, `::1` (in any
    /// spelling, brackets allowed) or an IPv4-mapped 127.0.0.0/8 address.
    public static func isLoopback(_ host: String) -> Bool {
        var text = host.lowercased()
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if text == "localhost" { return true }
        if let octets = ipv4Octets(text) { return octets[0] == 127 }
        guard let groups = ipv6Groups(text) else { return false }
        if groups[0..<7].allSatisfy({ $0 == 0 }) && groups[7] == 1 { return true }
        return groups[0..<5].allSatisfy({ $0 == 0 }) && groups[5] == 0xffff
            && groups[6] >> 8 == 127
    }

    /// The four octets of a dotted-quad IPv4 address, or nil.
    static func ipv4Octets(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII),
                let octet = UInt8(part)
            else { return nil }
            octets.append(octet)
        }
        return octets
    }

    /// The eight 16-bit groups of an IPv6 address (with `::` and a dotted-quad tail), or nil.
    static func ipv6Groups(_ text: String) -> [UInt16]? {
        guard text.contains(":") else { return nil }
        func groups(_ part: Substring) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (position, field) in fields.enumerated() {
                if position == fields.count - 1, field.contains("."),
                    let octets = ipv4Octets(String(field))
                {
                    result.append(UInt16(octets[0]) << 8 | UInt16(octets[1]))
                    result.append(UInt16(octets[2]) << 8 | UInt16(octets[3]))
                } else {
                    guard (1...4).contains(field.count), let group = UInt16(field, radix: 16)
                    else { return nil }
                    result.append(group)
                }
            }
            return result
        }
        guard let gap = text.firstRange(of: "::") else {
            guard let all = groups(Substring(text)), all.count == 8 else { return nil }
            return all
        }
        let tailText = text[gap.upperBound...]
        guard !tailText.contains("::"), let head = groups(text[..<gap.lowerBound]),
            let tail = groups(tailText), head.count + tail.count < 8
        else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }
}
