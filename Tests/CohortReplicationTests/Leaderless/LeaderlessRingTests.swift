import CohortCore
import Testing

@testable import CohortReplication

@Suite struct LeaderlessRingTests {
    let members = (1...5).map { NodeID(UInt64($0)) }

    @Test func preferenceListsHoldNDistinctNodesStartingAtTheOwner() {
        let ring = LeaderlessRing(members: members.reversed(), replicas: 3)
        #expect(ring.members == members)
        for partition in 0..<ring.partitionCount {
            let list = ring.preferenceList(ofPartition: partition)
            #expect(list.count == 3 && Set(list).count == 3)
            #expect(list[0] == ring.owner(of: partition))
        }
        let key = Array("cart:42".utf8)
        #expect(
            ring.preferenceList(of: key)
                == ring.preferenceList(ofPartition: ring.partition(of: key)))
    }

    @Test func everyNodeHoldsItsShareOfPartitions() {
        let ring = LeaderlessRing(members: members, replicas: 3)
        let held = members.map { ring.partitions(heldBy: $0).count }
        #expect(held.reduce(0, +) == ring.partitionCount * 3)
        #expect(held.allSatisfy { abs($0 - ring.partitionCount * 3 / members.count) <= 2 })
    }

    @Test func replicasAreCappedByMembers() {
        let ring = LeaderlessRing(members: [NodeID(1), NodeID(2)], replicas: 3)
        #expect(ring.replicas == 2)
        #expect(ring.preferenceList(of: [1, 2, 3]).count == 2)
    }
}
