/// A hybrid logical clock timestamp (Kulkarni et al., 2014): physical milliseconds plus a
/// logical counter that orders events within one millisecond and across skewed clocks.
public struct HLCTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since the Unix epoch, as the highest physical time seen.
    public var physicalMillis: UInt64
    /// Orders events that share `physicalMillis`.
    public var logical: UInt32

    public static let zero = HLCTimestamp(physicalMillis: 0, logical: 0)

    public init(physicalMillis: UInt64, logical: UInt32) {
        self.physicalMillis = physicalMillis
        self.logical = logical
    }

    public static func < (lhs: HLCTimestamp, rhs: HLCTimestamp) -> Bool {
        (lhs.physicalMillis, lhs.logical) < (rhs.physicalMillis, rhs.logical)
    }

    public var description: String { "\(physicalMillis).\(logical)" }
}

/// The clock that issues `HLCTimestamp`s. Pure: the caller passes the physical time in, so the
/// simulator can skew it and tests can fix it.
public struct HybridLogicalClock: Sendable {
    /// The last timestamp issued or observed. Never goes back.
    public private(set) var last: HLCTimestamp = .zero

    public init() {}

    /// A timestamp for a local event at physical time `nowMillis`, greater than any issued or
    /// observed before.
    public mutating func now(physicalMillis nowMillis: UInt64) -> HLCTimestamp {
        if nowMillis > last.physicalMillis {
            last = HLCTimestamp(physicalMillis: nowMillis, logical: 0)
        } else {
            last = HLCTimestamp(physicalMillis: last.physicalMillis, logical: last.logical + 1)
        }
        return last
    }

    /// Folds a timestamp received from another node into the clock, and returns the timestamp
    /// of the receive event, greater than both.
    public mutating func observe(
        _ remote: HLCTimestamp, physicalMillis nowMillis: UInt64
    ) -> HLCTimestamp {
        let physical = max(last.physicalMillis, remote.physicalMillis, nowMillis)
        let logical: UInt32
        if physical == last.physicalMillis && physical == remote.physicalMillis {
            logical = max(last.logical, remote.logical) + 1
        } else if physical == last.physicalMillis {
            logical = last.logical + 1
        } else if physical == remote.physicalMillis {
            logical = remote.logical + 1
        } else {
            logical = 0
        }
        last = HLCTimestamp(physicalMillis: physical, logical: logical)
        return last
    }
}
