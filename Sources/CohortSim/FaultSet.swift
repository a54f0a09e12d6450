/// A set of fault kinds, with a stable order and the command line's comma-list syntax.
public struct FaultSet: Hashable, Sendable, CustomStringConvertible {
    /// The kinds, sorted in declaration order.
    public private(set) var kinds: [FaultKind]

    /// Every kind.
    public static let all = FaultSet(FaultKind.allCases)

    /// No faults: a network that delays but never loses, nodes that never crash.
    public static let none = FaultSet([])

    /// A set of the given kinds (duplicates ignored).
    public init(_ kinds: [FaultKind]) {
        var unique: [FaultKind] = []
        for kind in kinds where !unique.contains(kind) { unique.append(kind) }
        self.kinds = unique.sorted()
    }

    /// Parses `all`, `none`, or a comma list of kind names such as `drop,crash`.
    /// Returns nil with an unknown name, so the command line can report it.
    public init?(parsing list: String) {
        let trimmed = list.filter { $0 != " " }
        if trimmed == "all" || trimmed.isEmpty {
            self = .all
            return
        }
        if trimmed == "none" {
            self = .none
            return
        }
        var kinds: [FaultKind] = []
        for name in trimmed.split(separator: ",") {
            guard let kind = FaultKind(rawValue: String(name)) else { return nil }
            kinds.append(kind)
        }
        self.init(kinds)
    }

    /// True when `kind` is in the set.
    public func contains(_ kind: FaultKind) -> Bool { kinds.contains(kind) }

    /// The comma list the parser accepts: `all`, `none`, or kind names in declaration order.
    public var description: String {
        if kinds.count == FaultKind.allCases.count { return "all" }
        if kinds.isEmpty { return "none" }
        return kinds.map(\.rawValue).joined(separator: ",")
    }
}
