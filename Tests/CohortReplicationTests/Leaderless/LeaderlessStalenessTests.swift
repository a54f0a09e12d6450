import Testing

@testable import CohortReplication

@Suite struct LeaderlessStalenessTests {
    @Test func percentilesAndThePBSEstimateFollowTheReplicasDelays() {
        var staleness = LeaderlessStaleness()
        #expect(staleness.fullReplicationMillis(percentile: 0.5) == nil)
        #expect(staleness.probabilityReadSees(afterMillis: 0, readQuorum: 1) == nil)
        // Three replicas: two had each write at its acknowledgement, the third 10 ms later.
        for _ in 0..<100 { staleness.record(acknowledgedAt: 100, replicasAt: [90, 100, 110]) }
        #expect(staleness.fullReplicationMillis(percentile: 0.99) == 10)
        // R 1 at once: one replica in three misses it.
        let immediate = staleness.probabilityReadSees(afterMillis: 0, readQuorum: 1)!
        #expect(abs(immediate - 2.0 / 3.0) < 1e-9)
        // R 2 always overlaps the two that have it; so does any read 10 ms later.
        #expect(staleness.probabilityReadSees(afterMillis: 0, readQuorum: 2) == 1)
        #expect(staleness.probabilityReadSees(afterMillis: 10, readQuorum: 1) == 1)
        #expect(staleness.measured == 100)
    }

    @Test func onlyTheLastSamplesAreKept() {
        var staleness = LeaderlessStaleness()
        for index in 0..<(LeaderlessStaleness.samplesMax + 10) {
            staleness.record(acknowledgedAt: 0, replicasAt: [UInt64(index)])
        }
        #expect(staleness.samples.count == LeaderlessStaleness.samplesMax)
        #expect(staleness.fullReplicationMillis(percentile: 0) == 10)
    }
}
