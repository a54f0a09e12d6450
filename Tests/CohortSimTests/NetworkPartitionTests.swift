import CohortCore
import Testing

@testable import CohortSim

@Suite struct NetworkPartitionTests {
    let n1 = NodeID(1)
    let n2 = NodeID(2)
    let n3 = NodeID(3)
    let n4 = NodeID(4)
    let n5 = NodeID(5)

    @Test func symmetricSplitCutsBothDirectionsBetweenGroupsOnly() {
        let partition = NetworkPartition.symmetric(groups: [[n1, n2], [n3, n4, n5]])
        #expect(partition.allows(from: n1, to: n2))
        #expect(partition.allows(from: n3, to: n5))
        #expect(!partition.allows(from: n1, to: n3))
        #expect(!partition.allows(from: n3, to: n1))
        #expect(partition.allows(from: n4, to: n4))
    }

    @Test func asymmetricCutIsOneWay() {
        // n1 is heard by everybody but hears nobody... the reverse: n1 hears n2, n2 not n1.
        let partition = NetworkPartition.asymmetric(senders: [n1], receivers: [n2, n3])
        #expect(!partition.allows(from: n1, to: n2))
        #expect(!partition.allows(from: n1, to: n3))
        #expect(partition.allows(from: n2, to: n1))
        #expect(partition.allows(from: n3, to: n1))
        #expect(partition.allows(from: n2, to: n3))
    }

    @Test func bridgeConnectsHalvesOnlyThroughTheBridgeNode() {
        let partition = NetworkPartition.bridge(left: [n1, n2], right: [n4, n5], bridge: n3)
        #expect(!partition.allows(from: n1, to: n4))
        #expect(!partition.allows(from: n5, to: n2))
        #expect(partition.allows(from: n1, to: n2))
        #expect(partition.allows(from: n4, to: n5))
        for node in [n1, n2, n4, n5] {
            #expect(partition.allows(from: node, to: n3))
            #expect(partition.allows(from: n3, to: node))
        }
    }

    @Test func healedNetworkAllowsEverything() {
        #expect(NetworkPartition.none.allows(from: n1, to: n5))
    }

    @Test func networkKeepsLinksFifoWithoutReorderAndDropsAsConfigured() {
        var random = SimRandom(seed: 3)
        var network = SimNetwork(
            conditions: NetworkConditions(delayMicrosMin: 100, delayMicrosMax: 5_000))
        var last: UInt64 = 0
        for step in 0..<200 {
            let arrivals = network.arrivalTimes(
                from: n1, to: n2, nowMicros: UInt64(step * 10), random: &random)
            #expect(arrivals.count == 1)
            #expect(arrivals[0] >= last)
            last = arrivals[0]
        }
        network.conditions = NetworkConditions(
            dropProbability: 1.0, duplicateProbability: 0, reorders: true)
        #expect(network.arrivalTimes(from: n1, to: n2, nowMicros: 0, random: &random).isEmpty)
        network.conditions = NetworkConditions(duplicateProbability: 1.0)
        #expect(network.arrivalTimes(from: n1, to: n2, nowMicros: 0, random: &random).count == 2)
    }
}
