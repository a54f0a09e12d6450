import CohortCore
import Testing

@testable import CohortNode

/// The pure rules of ``NodeIdentity``: first sight is remembered, another incarnation is
/// refused, a newer member entry readmits, and the file round-trips or fails loudly.
@Suite struct NodeIdentityTests {
    @Test func aPeerIsRememberedThenAReplacedDirectoryRefused() {
        var identity = NodeIdentity(incarnation: 0xA1)
        var outcomes: [NodeIdentity.Admission] = []
        for (peer, presented) in [(2, 0xB1), (2, 0xB1), (2, 0xB2), (2, 0), (3, 0)]
            as [(UInt64, UInt64)]
        {
            outcomes.append(identity.admit(NodeID(peer), presenting: presented))
        }
        #expect(
            outcomes == [
                .firstSeen, .known, .replaced(remembered: 0xB1), .replaced(remembered: 0xB1),
                .replaced(remembered: 0),
            ])
        // A refusal changes nothing.
        #expect(identity.peers[NodeID(2)]?.incarnation == 0xB1)
        #expect(identity.peers[NodeID(3)] == nil)
    }

    @Test func onlyANewerMemberEntryReadmits() {
        var identity = NodeIdentity(incarnation: 1)
        var changed: [Bool] = []
        var outcomes: [NodeIdentity.Admission] = []
        changed.append(identity.memberAdmitted(NodeID(2), at: LogIndex(5)))
        outcomes.append(identity.admit(NodeID(2), presenting: 0xB1))
        // The same entry replayed after a restart, or an older one, forgets nothing.
        changed.append(identity.memberAdmitted(NodeID(2), at: LogIndex(5)))
        changed.append(identity.memberAdmitted(NodeID(2), at: LogIndex(3)))
        outcomes.append(identity.admit(NodeID(2), presenting: 0xB2))
        // A newer one (the node was removed and added again) does.
        changed.append(identity.memberAdmitted(NodeID(2), at: LogIndex(40)))
        #expect(identity.peers[NodeID(2)] == .init(incarnation: nil, admittedAt: LogIndex(40)))
        outcomes.append(identity.admit(NodeID(2), presenting: 0xB2))
        #expect(changed == [true, false, false, true])
        #expect(outcomes == [.firstSeen, .replaced(remembered: 0xB1), .firstSeen])
        #expect(identity.peers[NodeID(2)] == .init(incarnation: 0xB2, admittedAt: LogIndex(40)))
    }

    @Test func theFileRoundTripsAndDamageIsAnError() throws {
        var identity = NodeIdentity(incarnation: 0xDEAD_BEEF)
        let first = identity.admit(NodeID(7), presenting: 0x77)
        let readmitted = identity.memberAdmitted(NodeID(9), at: LogIndex(12))
        let last = identity.admit(NodeID(UInt64.max), presenting: UInt64.max)
        #expect(first == .firstSeen && readmitted && last == .firstSeen)
        let bytes = identity.encoded()
        #expect(try NodeIdentity.decode(bytes) == identity)
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == "cohort-node-identity 1\nincarnation deadbeef\npeer 7 77 0\npeer 9 - 12\n"
                + "peer ffffffffffffffff ffffffffffffffff 0\n")
        let damaged = [
            "", "cohort-node-identity 2\nincarnation 1\n", "cohort-node-identity 1\n",
            "cohort-node-identity 1\nincarnation 0\n",
            "cohort-node-identity 1\nincarnation 1\npeer 7 77\n",
            "cohort-node-identity 1\nincarnation 1\npeer 7 0 1\n",
            "cohort-node-identity 1\nincarnation 1\npeer 0 5 1\n",
            "cohort-node-identity 1\nincarnation 1\npeer 7 5 1\npeer 7 6 1\n",
            "cohort-node-identity 1\nincarnation 1\npeer 7 zz 1\n",
        ]
        for text in damaged {
            #expect(throws: NodeIdentity.DecodeError.self, "\(text)") {
                try NodeIdentity.decode(Array(text.utf8))
            }
        }
    }
}
