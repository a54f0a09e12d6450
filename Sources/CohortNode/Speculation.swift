import CohortCore
import CohortStorage

/// A replication leader's evaluation of one write command: the command reads `overlay` (writes
/// proposed but not yet applied) over the engine's state, and its own writes are collected here
/// instead of being committed, to be replicated as a log entry. Used on one thread at a time.
public final class Speculation {
    /// Writes in flight, newest per key.
    public let overlay: [[UInt8]: KeyWrite]
    /// True when a FLUSHALL is in flight: the engine's state is hidden behind `overlay`.
    public let overlayHidesEngine: Bool
    /// The command's writes.
    public internal(set) var writes: [[UInt8]: KeyWrite] = [:]
    /// The command deletes every key (before `writes`).
    public internal(set) var flushesAll = false

    /// Creates an evaluation over `overlay`.
    public init(overlay: [[UInt8]: KeyWrite], overlayHidesEngine: Bool) {
        self.overlay = overlay
        self.overlayHidesEngine = overlayHidesEngine
    }
}
