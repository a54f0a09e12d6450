import CohortCheck
import CohortCore
import Testing

/// Builds an observation whose log holds entries with the given terms from `firstIndex`; each
/// entry's digest is derived from index and term unless overridden.
func observation(
    _ node: UInt64, term: UInt64, leader: Bool = false, commit: UInt64 = 0, applied: UInt64 = 0,
    firstIndex: UInt64 = 1, terms: [UInt64], digests: [UInt64: UInt64] = [:]
) -> RaftNodeObservation {
    let entries = terms.enumerated().map { offset, entryTerm in
        let index = firstIndex + UInt64(offset)
        return ObservedEntry(
            index: LogIndex(index), term: Term(entryTerm),
            payloadDigest: digests[index] ?? (index << 32 | entryTerm))
    }
    return RaftNodeObservation(
        node: NodeID(node), term: Term(term), isLeader: leader, commitIndex: LogIndex(commit),
        appliedIndex: LogIndex(applied), firstIndex: LogIndex(firstIndex), entries: entries)
}

@Suite struct RaftSafetyCheckerTests {
    @Test func aWitnessesMetadataMatchesAnyPayloadButTwoPayloadsStillMustAgree() {
        // A witness keeps entries' metadata only (found when the simulator first ran a
        // keyspace with a witness: its entries were reported as differing from the voters').
        func witnessView(_ node: UInt64, commit: UInt64) -> RaftNodeObservation {
            var seen = observation(node, term: 1, commit: commit, applied: commit, terms: [1, 1])
            for offset in seen.entries.indices {
                seen.entries[offset].payloadDigest = 0
                seen.entries[offset].payloadOmitted = true
            }
            return seen
        }
        var checker = RaftSafetyChecker()
        var violations = checker.observe([witnessView(3, commit: 2)], step: 1)
        violations += checker.observe(
            [observation(1, term: 1, leader: true, commit: 2, applied: 2, terms: [1, 1])], step: 2)
        violations += checker.observe([witnessView(3, commit: 2)], step: 3)
        #expect(violations.isEmpty, "\(violations)")
        // A voter whose payload at a committed index differs is still caught.
        let diverged = checker.observe(
            [observation(2, term: 1, commit: 2, applied: 2, terms: [1, 1], digests: [2: 99])],
            step: 4)
        #expect(!diverged.isEmpty)
    }

    @Test func validRunHasNoViolations() {
        var checker = RaftSafetyChecker()
        var violations: [SafetyViolation] = []
        // Term 1: n1 leads and commits two entries on n1 and n2; n3 lags.
        violations += checker.observe(
            [
                observation(1, term: 1, leader: true, commit: 2, applied: 2, terms: [1, 1]),
                observation(2, term: 1, commit: 2, applied: 1, terms: [1, 1]),
                observation(3, term: 1, terms: []),
            ], step: 1)
        // n1 appends an uncommitted entry in term 1 that only it holds, then is partitioned.
        violations += checker.observe(
            [observation(1, term: 1, leader: true, commit: 2, applied: 2, terms: [1, 1, 1])],
            step: 2)
        // Term 2: n2 leads (it holds both committed entries) and replaces index 3.
        violations += checker.observe(
            [
                observation(2, term: 2, leader: true, commit: 3, applied: 3, terms: [1, 1, 2]),
                observation(3, term: 2, commit: 3, applied: 3, terms: [1, 1, 2]),
            ], step: 3)
        // n1 (the stale leader of term 1) rejoins, truncates its uncommitted entry.
        violations += checker.observe(
            [observation(1, term: 2, commit: 3, applied: 3, terms: [1, 1, 2])], step: 4)
        // n3 compacts its log below 3 and restarts with volatile state lost.
        checker.nodeRestarted(NodeID(3))
        violations += checker.observe(
            [observation(3, term: 2, commit: 0, applied: 0, firstIndex: 3, terms: [2])], step: 5)
        // Term 3: n3 leads; compacted entries are fine.
        violations += checker.observe(
            [
                observation(
                    3, term: 3, leader: true, commit: 4, applied: 4, firstIndex: 3, terms: [2, 3]),
                observation(1, term: 3, commit: 4, applied: 4, terms: [1, 1, 2, 3]),
            ], step: 6)
        #expect(violations.isEmpty, "\(violations)")
        #expect(checker.leadersByTerm.map(\.node) == [NodeID(1), NodeID(2), NodeID(3)])
        #expect(checker.committedIndexSeenMax == LogIndex(4))
    }

    @Test func twoLeadersInOneTermAreFlagged() {
        var checker = RaftSafetyChecker()
        #expect(
            checker.observe([observation(1, term: 4, leader: true, terms: [])], step: 10).isEmpty)
        // A second leader in term 4, observed later: the checker remembers the first.
        let violations = checker.observe(
            [observation(1, term: 5, terms: []), observation(2, term: 4, leader: true, terms: [])],
            step: 11)
        #expect(violations.count == 1)
        #expect(violations.first?.property == .electionSafety)
        #expect(violations.first?.nodes == [NodeID(1), NodeID(2)])
        #expect(
            violations.first?.description
                == "step 11: electionSafety [n1, n2]: two leaders in t4: n1 and n2")
    }

    @Test func entriesWithSameIndexAndTermButDifferentPayloadsAreFlagged() {
        var checker = RaftSafetyChecker()
        let violations = checker.observe(
            [
                observation(1, term: 2, terms: [1, 2]),
                observation(2, term: 2, terms: [1, 2], digests: [2: 99]),
            ], step: 3)
        #expect(violations.map(\.property) == [.logMatching])
        #expect(violations.first?.message.contains("entries at i2 in t2 differ") == true)
    }

    @Test func logsSharingAnEntryButDifferingBeforeItAreFlagged() {
        var checker = RaftSafetyChecker()
        _ = checker.observe([observation(1, term: 3, terms: [1, 1, 3])], step: 1)
        let violations = checker.observe([observation(2, term: 3, terms: [1, 2, 3])], step: 2)
        #expect(violations.map(\.property) == [.logMatching])
        #expect(violations.first?.nodes == [NodeID(1), NodeID(2)])
        #expect(violations.first?.message.contains("differ before it") == true)
    }

    @Test func committedEntryMissingFromLaterLeaderIsFlagged() {
        var checker = RaftSafetyChecker()
        _ = checker.observe(
            [
                observation(1, term: 1, leader: true, commit: 2, terms: [1, 1]),
                observation(2, term: 1, commit: 2, terms: [1, 1]),
                observation(3, term: 1, terms: [1]),
            ], step: 1)
        // n3 wins term 2 without the committed entry at index 2.
        let violations = checker.observe(
            [observation(3, term: 2, leader: true, terms: [1])], step: 2)
        #expect(violations.map(\.property) == [.leaderCompleteness])
        #expect(violations.first?.nodes == [NodeID(1), NodeID(3)])
        #expect(violations.first?.message.contains("lacks entry i2@t1") == true)
    }

    @Test func differentAppliedEntriesAtOneIndexAreFlagged() {
        var checker = RaftSafetyChecker()
        let violations = checker.observe(
            [
                observation(1, term: 2, commit: 2, applied: 2, terms: [1, 1]),
                observation(2, term: 2, commit: 2, applied: 2, terms: [1, 2]),
            ], step: 7)
        #expect(violations.contains { $0.property == .stateMachineSafety })
        #expect(violations.allSatisfy { $0.step == 7 })
    }

    @Test func committedEntryChangingLaterIsFlagged() {
        var checker = RaftSafetyChecker()
        _ = checker.observe([observation(1, term: 1, commit: 1, terms: [1])], step: 1)
        let violations = checker.observe([observation(1, term: 2, commit: 1, terms: [2])], step: 2)
        #expect(violations.map(\.property) == [.stateMachineSafety])
    }

    @Test func monotonicityIsEnforcedExceptAcrossRestart() {
        var checker = RaftSafetyChecker()
        _ = checker.observe(
            [observation(1, term: 3, commit: 2, applied: 2, terms: [1, 1])], step: 1)
        let back = checker.observe(
            [observation(1, term: 2, commit: 1, applied: 1, terms: [1, 1])], step: 2)
        #expect(
            back.map(\.property) == [.termMonotonicity, .commitMonotonicity, .appliedMonotonicity])
        checker.nodeRestarted(NodeID(1))
        let restarted = checker.observe([observation(1, term: 3, terms: [1, 1])], step: 3)
        #expect(restarted.isEmpty, "\(restarted)")
        let beyond = checker.observe(
            [observation(1, term: 3, commit: 5, applied: 1, terms: [1, 1])], step: 4)
        #expect(beyond.map(\.property) == [.commitMonotonicity])
    }

    @Test func lastingViolationIsReportedOnce() {
        var checker = RaftSafetyChecker()
        let both = [
            observation(1, term: 1, leader: true, terms: []),
            observation(2, term: 1, leader: true, terms: []),
        ]
        #expect(checker.observe(both, step: 1).count == 1)
        #expect(checker.observe(both, step: 2).isEmpty)
    }

    @Test func leaderIsRecheckedIncrementallyWhileItLeads() {
        var checker = RaftSafetyChecker()
        // n3 has compacted below 5 and shows index 5 committed; n1 leads term 2 and holds it
        // (it has not yet advanced its own commit index).
        let leaderLog: [UInt64] = [1, 1, 1, 1, 1]
        #expect(
            checker.observe(
                [
                    observation(1, term: 2, leader: true, terms: leaderLog),
                    observation(3, term: 2, commit: 5, firstIndex: 5, terms: [1]),
                ], step: 1
            ).isEmpty)
        // A committed record below what was verified arrives later, from n2; the unchanged
        // leader must still be checked against it.
        let late = checker.observe(
            [
                observation(1, term: 2, leader: true, terms: leaderLog),
                observation(2, term: 2, commit: 2, terms: [1, 2]),
            ], step: 2)
        #expect(late.map(\.property).contains(.leaderCompleteness), "\(late)")
        // The leader truncating its own committed entries is caught too.
        let truncated = checker.observe(
            [observation(1, term: 2, leader: true, commit: 3, terms: [1, 1, 1])], step: 3)
        #expect(truncated.map(\.property).contains(.leaderCompleteness), "\(truncated)")
    }
}
