import Testing

@testable import CohortSim

@Suite struct EventQueueTests {
    @Test func popsInTimeOrderAndBreaksTiesByInsertion() {
        var queue = EventQueue<String>()
        queue.schedule("late", atMicros: 30)
        queue.schedule("tie-first", atMicros: 10)
        queue.schedule("early", atMicros: 5)
        queue.schedule("tie-second", atMicros: 10)
        queue.schedule("tie-third", atMicros: 10)
        var order: [String] = []
        while let entry = queue.popFirst() { order.append(entry.payload) }
        #expect(order == ["early", "tie-first", "tie-second", "tie-third", "late"])
        #expect(queue.isEmpty)
    }

    @Test func matchesASortedReferenceOnRandomInput() {
        var random = SimRandom(seed: 42)
        var queue = EventQueue<Int>()
        var reference: [(time: UInt64, order: Int)] = []
        for order in 0..<2_000 {
            let time = random.below(50)
            queue.schedule(order, atMicros: time)
            reference.append((time, order))
        }
        reference.sort { ($0.time, $0.order) < ($1.time, $1.order) }
        var popped: [Int] = []
        while let entry = queue.popFirst() { popped.append(entry.payload) }
        #expect(popped == reference.map(\.order))
    }
}
