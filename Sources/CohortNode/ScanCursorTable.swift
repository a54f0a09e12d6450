import Synchronization

/// Maps the cursors that SCAN hands out (``ScanCursor``) to the key where the next page starts.
/// The index is ordered by key, but Redis clients insist on integer cursors, so the server keeps
/// the position. The table is bounded: the oldest cursors are forgotten first, and a forgotten
/// cursor is reported as invalid rather than silently restarting the scan.
///
/// Cursors carry this node's tag, so a cursor issued elsewhere is never looked up here by
/// mistake, and serials start at a point derived from the time the table was made (1,000 per
/// millisecond), so a cursor from an earlier life of this process, handed back after a restart,
/// misses instead of naming an unrelated position (it would take more than a thousand cursors
/// per millisecond, sustained, for a later life to reach an earlier one's serials).
public final class ScanCursorTable: Sendable {
    /// How many open cursors the server remembers.
    public static let cursorsMax = 65_536

    private struct State {
        var nextSerial: UInt64
        var positions: [UInt64: [UInt8]] = [:]
        var order: [UInt64] = []
        var orderStart = 0
    }

    /// This node's tag in the cursors it issues.
    public let tag: UInt32
    private let state: Mutex<State>

    /// A table for the node called `nodeName`, made at `startedAtMillis` (wall clock).
    public init(nodeName: String, startedAtMillis: UInt64) {
        self.tag = ScanCursor.tag(ofNode: nodeName)
        let start = (startedAtMillis &* 1_000) % ScanCursor.serialMax
        self.state = Mutex(State(nextSerial: max(1, start)))
    }

    /// Registers the key after which the next page starts; returns the cursor to hand out.
    public func open(after key: [UInt8]) -> UInt64 {
        state.withLock { state in
            let serial = state.nextSerial
            state.nextSerial = serial >= ScanCursor.serialMax ? 1 : serial + 1
            let cursor = ScanCursor(tag: tag, serial: serial).rawValue
            state.positions[cursor] = key
            state.order.append(cursor)
            while state.positions.count > Self.cursorsMax {
                let oldest = state.order[state.orderStart]
                state.orderStart += 1
                state.positions[oldest] = nil
            }
            if state.orderStart > Self.cursorsMax {
                state.order.removeFirst(state.orderStart)
                state.orderStart = 0
            }
            return cursor
        }
    }

    /// The key a cursor stands for, or nil if the cursor was never issued here or was
    /// forgotten.
    public func position(of cursor: UInt64) -> [UInt8]? {
        state.withLock { $0.positions[cursor] }
    }
}
