import CohortCore

/// A broken safety property, found by the ``RaftSafetyChecker``.
public struct SafetyViolation: Hashable, Sendable, CustomStringConvertible {
    /// Which property broke.
    public var property: SafetyProperty
    /// The driver's step number at which it was observed.
    public var step: UInt64
    /// The nodes involved, sorted.
    public var nodes: [NodeID]
    /// What exactly was seen.
    public var message: String

    /// Creates a violation; `nodes` is sorted and deduplicated.
    public init(property: SafetyProperty, step: UInt64, nodes: [NodeID], message: String) {
        self.property = property
        self.step = step
        self.nodes = Array(Set(nodes)).sorted()
        self.message = message
    }

    /// `step N: property [n1, n2]: message`.
    public var description: String {
        "step \(step): \(property.rawValue) \(nodes): \(message)"
    }
}
