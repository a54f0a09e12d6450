import CohortCore

/// A log entry as the safety checker sees it: position, term and a digest of the payload (any
/// stable 64-bit digest the driver chooses; equal payloads must give equal digests).
public struct ObservedEntry: Hashable, Sendable, CustomStringConvertible {
    /// The entry's index in the log.
    public var index: LogIndex
    /// The term in which a leader created the entry.
    public var term: Term
    /// A digest of the entry's payload.
    public var payloadDigest: UInt64
    /// Whether the node keeps only the entry's metadata (a witness): its payload is unknown
    /// and matches any.
    public var payloadOmitted: Bool

    /// Creates an observed entry.
    public init(index: LogIndex, term: Term, payloadDigest: UInt64, payloadOmitted: Bool = false) {
        self.index = index
        self.term = term
        self.payloadDigest = payloadDigest
        self.payloadOmitted = payloadOmitted
    }

    /// Whether two observations can be of one entry: same index and term, and the same payload
    /// where both nodes keep it.
    public func matches(_ other: ObservedEntry) -> Bool {
        index == other.index && term == other.term
            && (payloadOmitted || other.payloadOmitted || payloadDigest == other.payloadDigest)
    }

    /// `i<index>@t<term>#<digest in hex>`.
    public var description: String {
        "\(index)@\(term)#\(String(payloadDigest, radix: 16))"
    }
}
