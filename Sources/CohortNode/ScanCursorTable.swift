import Synchronization

/// Maps the numeric cursors that SCAN hands out to the key where the next page starts. The
/// index is ordered by key, but Redis clients insist on integer cursors, so the server keeps
/// the position. The table is bounded: the oldest cursors are forgotten first, and a forgotten
/// cursor is reported as invalid rather than silently restarting the scan.
public final class ScanCursorTable: Sendable {
    /// How many open cursors the server remembers.
    public static let cursorsMax = 65_536

    private struct State {
        var nextCursor: UInt64 = 1
        var positions: [UInt64: [UInt8]] = [:]
        var order: [UInt64] = []
        var orderStart = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Registers the key after which the next page starts; returns the cursor to hand out.
    public func open(after key: [UInt8]) -> UInt64 {
        state.withLock { state in
            let cursor = state.nextCursor
            state.nextCursor += 1
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

    /// The key a cursor stands for, or nil if the cursor was never issued or was forgotten.
    public func position(of cursor: UInt64) -> [UInt8]? {
        state.withLock { $0.positions[cursor] }
    }
}
