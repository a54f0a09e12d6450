import CohortCheck
import Testing

/// Parses a history written in the text form; the text is trusted test input.
func history(_ text: String) -> History {
    do {
        return try History(parsing: text)
    } catch {
        preconditionFailure("bad test history: \(error)")
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct LinearizabilityCheckerTests {
    let checker = LinearizabilityChecker()

    @Test func sequentialHistoryIsLinearizable() {
        let result = checker.check(
            history(
                """
                p1 invoke write x 1
                p1 ok
                p1 invoke read x
                p1 ok 1
                p2 invoke cas x 1 2
                p2 ok
                p2 invoke cas x 1 3
                p2 fail
                p1 invoke read x
                p1 ok 2
                p1 invoke write x nil
                p1 ok
                p1 invoke read x
                p1 ok nil
                """))
        #expect(result == .linearizable)
    }

    @Test func concurrentOverlappingWritesAndReadsAreLinearizable() {
        // Both writes overlap both reads, and the reads see them in opposite orders: fine, as
        // long as each read's own order is consistent (read 2 then read 1 overlap the writes).
        let result = checker.check(
            history(
                """
                p1 invoke write x 1
                p2 invoke write x 2
                p3 invoke read x
                p4 invoke read x
                p3 ok 2
                p1 ok
                p2 ok
                p4 ok 1
                """))
        #expect(result == .linearizable)
    }

    @Test func staleReadAfterCompletedWriteIsRejected() {
        let result = checker.check(
            history(
                """
                p1 invoke write x 1
                p1 ok
                p1 invoke write x 2
                p1 ok
                p2 invoke read x
                p2 ok 1
                """))
        let explanation = try! #require(result.explanation)
        #expect(explanation.key == bytes("x"))
        #expect(explanation.linearizedPrefix.map(\.id.rawValue) == [0, 1])
        #expect(explanation.valueAfterPrefix == bytes("2"))
        #expect(explanation.blockedOperation.id.rawValue == 2)
        #expect(explanation.description.contains("Cannot linearize: p2 read x -> 1 [4, 5]"))
    }
}

@Suite struct LinearizabilityViolationTests {
    let checker = LinearizabilityChecker()

    @Test func concurrentCompareAndSetsAreLinearizable() {
        // Two CAS race from 0; one wins, the loser fails; a later read sees the winner.
        let result = checker.check(
            history(
                """
                p1 invoke write x 0
                p1 ok
                p1 invoke cas x 0 1
                p2 invoke cas x 0 2
                p2 fail
                p1 ok
                p3 invoke read x
                p3 ok 1
                """))
        #expect(result == .linearizable)
    }

    @Test func readOfNeverWrittenValueIsRejected() {
        let result = checker.check(
            history(
                """
                p1 invoke write x 1
                p2 invoke read x
                p1 ok
                p2 ok 7
                """))
        let explanation = try! #require(result.explanation)
        #expect(explanation.blockedOperation.kind == .read)
        #expect(explanation.blockedOperation.outcome == .ok(bytes("7")))
        #expect(explanation.linearizedPrefix.count == 1)
        #expect(explanation.pendingOperations.map(\.id.rawValue) == [1])
    }

    @Test func readBeforeTheWriteWasInvokedIsRejected() {
        // Real-time order: the read completed before the write was sent.
        let result = checker.check(
            history(
                """
                p2 invoke read x
                p2 ok 1
                p1 invoke write x 1
                p1 ok
                """))
        #expect(result.explanation?.blockedOperation.id == OperationID(0))
        #expect(result.explanation?.linearizedPrefix.isEmpty == true)
        #expect(result.explanation?.valueAfterPrefix == nil)
    }

    @Test func lostUpdateThroughCompareAndSetIsRejected() {
        let result = checker.check(
            history(
                """
                p1 invoke write x 1
                p1 ok
                p1 invoke cas x 1 2
                p1 ok
                p2 invoke cas x 2 3
                p2 ok
                p3 invoke read x
                p3 ok 2
                """))
        let explanation = try! #require(result.explanation)
        #expect(explanation.linearizedPrefix.map(\.id.rawValue) == [0, 1, 2])
        #expect(explanation.valueAfterPrefix == bytes("3"))
        #expect(explanation.blockedOperation.id == OperationID(3))
    }

    @Test func twoCompareAndSetsSucceedingFromTheSameValueAreRejected() {
        let result = checker.check(
            history(
                """
                p1 invoke write x 0
                p1 ok
                p1 invoke cas x 0 1
                p2 invoke cas x 0 2
                p1 ok
                p2 ok
                """))
        let explanation = try! #require(result.explanation)
        #expect(explanation.linearizedPrefix.count == 2)
        #expect(explanation.pendingOperations.count == 1)
        let description = explanation.description
        #expect(description.contains("key x is not linearizable."))
        #expect(description.contains("p1 cas x 0 1 -> ok [2, 4]"))
        #expect(description.contains("p2 cas x 0 2 -> ok [3, 5]"))
    }

    @Test func explanationRendersAsGoldenText() {
        let result = checker.check(
            history(
                """
                p1 invoke write x 1
                p1 ok
                p1 invoke write x 2
                p1 ok
                p2 invoke read x
                p2 ok 1
                """))
        #expect(
            result.description == """
                key x is not linearizable.
                Longest linearizable prefix (2 operations, 3 completed ok in total):
                  1. p1 write x 1 -> ok [0, 1]
                  2. p1 write x 2 -> ok [2, 3]
                Value after the prefix: 2
                Cannot linearize: p2 read x -> 1 [4, 5]
                Pending then (each cannot take effect next, or leads to a dead end):
                  p2 read x -> 1 [4, 5]

                """)
    }
}

@Suite struct IndeterminateOperationTests {
    let checker = LinearizabilityChecker()

    @Test func infoWriteThatLaterBecomesVisibleIsAccepted() {
        let result = checker.check(
            history(
                """
                p1 invoke write x 1
                p1 info
                p2 invoke read x
                p2 ok nil
                p3 invoke read x
                p3 ok 1
                """))
        #expect(result == .linearizable)
    }

    @Test func infoWriteThatIsNeverVisibleIsAccepted() {
        let result = checker.check(
            history(
                """
                p1 invoke write x 1
                p1 info
                p2 invoke read x
                p2 ok nil
                p2 invoke write x 2
                p2 ok
                p2 invoke read x
                p2 ok 2
                """))
        #expect(result == .linearizable)
    }

    @Test func pendingWriteCountsAsIndeterminate() {
        let result = checker.check(
            history(
                """
                p1 invoke write x 1
                p2 invoke read x
                p2 ok 1
                """))
        #expect(result == .linearizable)
    }

    @Test func infoWriteCannotTakeEffectBeforeItsInvocation() {
        let result = checker.check(
            history(
                """
                p2 invoke read x
                p2 ok 1
                p1 invoke write x 1
                p1 info
                """))
        #expect(result.explanation?.blockedOperation.id == OperationID(0))
    }

    @Test func infoWriteTakesEffectAtMostOnce() {
        // Once overwritten by 2, the value 1 cannot come back from a single info write.
        let result = checker.check(
            history(
                """
                p1 invoke write x 1
                p1 info
                p2 invoke read x
                p2 ok 1
                p2 invoke write x 2
                p2 ok
                p2 invoke read x
                p2 ok 1
                """))
        #expect(!result.isLinearizable)
        #expect(result.explanation?.blockedOperation.id == OperationID(3))
    }

    @Test func readOfFailedWriteIsRejected() {
        let result = checker.check(
            history(
                """
                p1 invoke write x 1
                p1 fail
                p2 invoke read x
                p2 ok 1
                """))
        #expect(result.explanation?.blockedOperation.id == OperationID(1))
    }

    @Test func infoCompareAndSetMayApply() {
        let result = checker.check(
            history(
                """
                p1 invoke write x 1
                p1 ok
                p1 invoke cas x 1 2
                p1 info
                p2 invoke read x
                p2 ok 1
                p2 invoke read x
                p2 ok 2
                """))
        #expect(result == .linearizable)
    }

    @Test func infoCompareAndSetOnlyAppliesWhenTheValueMatches() {
        let result = checker.check(
            history(
                """
                p1 invoke write x 5
                p1 ok
                p1 invoke cas x 1 2
                p1 info
                p2 invoke read x
                p2 ok 2
                """))
        #expect(!result.isLinearizable)
    }

    @Test func chainOfInfoCompareAndSetsIsFollowed() {
        // 0 -> 1 -> 2 through two indeterminate CAS; only 2 is ever read.
        let result = checker.check(
            history(
                """
                p1 invoke write x 0
                p1 ok
                p1 invoke cas x 0 1
                p1 info
                p2 invoke cas x 1 2
                p2 info
                p3 invoke read x
                p3 ok 2
                """))
        #expect(result == .linearizable)
    }
}

@Suite struct DecompositionAndBudgetTests {
    @Test func keysAreCheckedIndependently() {
        // As one register this would be impossible (read y sees 1 after x was set to 2);
        // per key it is fine.
        let text = """
            p1 invoke write x 1
            p1 ok
            p1 invoke write y 1
            p1 ok
            p1 invoke write x 2
            p1 ok
            p2 invoke read y
            p2 ok 1
            p2 invoke read x
            p2 ok 2
            """
        #expect(LinearizabilityChecker().check(history(text)) == .linearizable)
        #expect(LinearizabilityChecker().check(history(text), key: bytes("y")) == .linearizable)
    }

    @Test func violationNamesTheFailingKey() {
        let result = LinearizabilityChecker().check(
            history(
                """
                p1 invoke write a 1
                p1 ok
                p2 invoke write b 1
                p2 ok
                p2 invoke write b 2
                p2 ok
                p3 invoke read b
                p3 ok 1
                p3 invoke read a
                p3 ok 1
                """))
        #expect(result.explanation?.key == bytes("b"))
        #expect(result.explanation?.linearizedPrefix.allSatisfy { $0.key == bytes("b") } == true)
    }

    /// Twenty concurrent writes and a read of a value nobody wrote: the search must try every
    /// subset of the writes before it can say no.
    static func pathologicalHistory(writesCount: Int) -> History {
        var history = History()
        var ids: [OperationID] = []
        for process in 0..<writesCount {
            ids.append(
                history.invoke(
                    process: ProcessID(UInt64(process)), key: "x",
                    kind: .write(bytes("\(process)"))))
        }
        let read = history.invoke(process: ProcessID(1000), key: "x", kind: .read)
        for id in ids { history.complete(id, .ok(nil)) }
        history.complete(read, .ok(bytes("nobody")))
        return history
    }

    @Test func budgetGivesUnknownOnPathologicalHistory() {
        let checker = LinearizabilityChecker(stepsMaxPerKey: 10_000)
        let result = checker.check(Self.pathologicalHistory(writesCount: 20))
        guard case .unknown(let reason) = result else {
            Issue.record("expected unknown, got \(result)")
            return
        }
        #expect(reason.contains("step budget of 10000 exhausted"))
    }

    @Test func smallPathologicalHistoryIsDecidedWithinBudget() {
        let result = LinearizabilityChecker().check(Self.pathologicalHistory(writesCount: 8))
        #expect(result.explanation?.blockedOperation.outcome == .ok(bytes("nobody")))
    }

    @Test func initialValueIsConfigurable() {
        let text = """
            p1 invoke read x
            p1 ok 0
            """
        #expect(!LinearizabilityChecker().check(history(text)).isLinearizable)
        #expect(
            LinearizabilityChecker(initialValue: bytes("0")).check(history(text)).isLinearizable)
    }
}
