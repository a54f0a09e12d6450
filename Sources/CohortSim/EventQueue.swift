/// The discrete-event scheduler's queue: a binary min-heap ordered by (time, sequence number).
/// The sequence number is assigned at insertion, so two events at the same simulated time run
/// in the order they were scheduled, and a run never depends on how the heap breaks ties.
public struct EventQueue<Payload> {
    /// One scheduled event.
    public struct Entry {
        /// Simulated time at which the event fires, in microseconds.
        public var timeMicros: UInt64
        /// Insertion order, unique per queue; breaks ties between equal times.
        public var sequence: UInt64
        /// What happens.
        public var payload: Payload
    }

    /// The most events that may be waiting at once; a run that exceeds it has a scheduling
    /// bug (an event that schedules ever more events), so it traps rather than grow forever.
    public let countMax: Int
    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0

    /// An empty queue holding at most `countMax` events.
    public init(countMax: Int = 1_000_000) {
        self.countMax = countMax
    }

    /// The number of waiting events.
    public var count: Int { heap.count }

    /// True when no event is waiting.
    public var isEmpty: Bool { heap.isEmpty }

    /// The time of the earliest waiting event.
    public var nextTimeMicros: UInt64? { heap.first?.timeMicros }

    /// Schedules `payload` at `timeMicros`, after every event already scheduled at that time.
    public mutating func schedule(_ payload: Payload, atMicros timeMicros: UInt64) {
        precondition(
            heap.count < countMax,
            "EventQueue holds \(heap.count) events, the bound is \(countMax)")
        heap.append(Entry(timeMicros: timeMicros, sequence: nextSequence, payload: payload))
        nextSequence += 1
        siftUp(heap.count - 1)
    }

    /// Removes and returns the earliest event (ties: the first scheduled).
    public mutating func popFirst() -> Entry? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let first = heap.removeLast()
        if !heap.isEmpty { siftDown(0) }
        return first
    }

    private static func precedes(_ lhs: Entry, _ rhs: Entry) -> Bool {
        (lhs.timeMicros, lhs.sequence) < (rhs.timeMicros, rhs.sequence)
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && Self.precedes(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count && Self.precedes(heap[right], heap[smallest]) {
                smallest = right
            }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
