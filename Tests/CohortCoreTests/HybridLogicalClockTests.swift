import CohortCore
import Testing

@Suite struct HybridLogicalClockTests {
    @Test func timestampsStrictlyGrowEvenWhenPhysicalTimeGoesBack() {
        var clock = HybridLogicalClock()
        var previous = HLCTimestamp.zero
        for physical: UInt64 in [100, 100, 99, 50, 101, 101, 10] {
            let stamp = clock.now(physicalMillis: physical)
            #expect(stamp > previous)
            previous = stamp
        }
    }

    @Test func observingARemoteTimestampMovesPastIt() {
        var clock = HybridLogicalClock()
        _ = clock.now(physicalMillis: 10)
        let remote = HLCTimestamp(physicalMillis: 500, logical: 7)
        let received = clock.observe(remote, physicalMillis: 20)
        #expect(received > remote)
        #expect(clock.now(physicalMillis: 30) > received)
    }
}
