/// The two clocks a host reads for a group, handed in with every input that needs time: the
/// group itself reads no clock (DESIGN.md §2).
///
/// Deadlines, lag and durations use `monotonicMillis`, which never goes back, so a step of the
/// system clock can neither trap a subtraction nor expire every deadline at once. Wall time
/// is used only where a protocol says so: TTLs are absolute wall-clock times (Redis's), and
/// rollback records carry when they were made.
public struct GroupTime: Hashable, Sendable {
    /// Milliseconds of a monotonic clock (any origin; only differences mean something).
    public var monotonicMillis: UInt64
    /// Milliseconds since the Unix epoch, as the system's real-time clock says.
    public var wallMillis: UInt64

    /// Both readings.
    public init(monotonicMillis: UInt64, wallMillis: UInt64) {
        self.monotonicMillis = monotonicMillis
        self.wallMillis = wallMillis
    }

    /// Milliseconds from `earlier` to this reading on the monotonic clock; zero if `earlier`
    /// is later (never traps).
    public func millis(since earlier: UInt64) -> UInt64 {
        monotonicMillis >= earlier ? monotonicMillis - earlier : 0
    }

    /// The monotonic reading `millis` from now (saturating).
    public func deadline(after millis: UInt64) -> UInt64 {
        monotonicMillis.addingReportingOverflow(millis).overflow
            ? UInt64.max : monotonicMillis + millis
    }
}
