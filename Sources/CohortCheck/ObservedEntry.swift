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

    /// Creates an observed entry.
    public init(index: LogIndex, term: Term, payloadDigest: UInt64) {
        self.index = index
        self.term = term
        self.payloadDigest = payloadDigest
    }

    /// `i<index>@t<term>#<digest in hex>`.
    public var description: String {
        "\(index)@\(term)#\(String(payloadDigest, radix: 16))"
    }
}
