import CohortCore
import CohortReplication
import Testing

/// One delivery through the filter (a mutating call cannot sit inside `#expect`).
private func take(_ filter: inout DeliveryFilter, from peer: UInt64, id: UInt64) -> Bool {
    filter.firstDelivery(from: NodeID(peer), id: id)
}

@Suite struct DeliveryFilterTests {
    @Test func aDeliveryIsTakenOncePerSenderAndId() {
        var filter = DeliveryFilter(countMax: 8)
        let results = [
            take(&filter, from: 1, id: 5), take(&filter, from: 1, id: 5),
            take(&filter, from: 2, id: 5), take(&filter, from: 1, id: 6),
        ]
        #expect(results == [true, false, true, true])
        #expect(filter.count == 3)
    }

    @Test func theOldestAreForgottenPastTheBound() {
        var filter = DeliveryFilter(countMax: 100)
        var allNew = true
        for id in 0..<1_000 as Range<UInt64> {
            allNew = allNew && take(&filter, from: 1, id: id)
            #expect(filter.count <= 100)
        }
        #expect(allNew)
        // The last hundred are remembered; the first are forgotten.
        let recent = [take(&filter, from: 1, id: 999), take(&filter, from: 1, id: 900)]
        #expect(recent == [false, false])
        #expect(take(&filter, from: 1, id: 0))
    }
}
