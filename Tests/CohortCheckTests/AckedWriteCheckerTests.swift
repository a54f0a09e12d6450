import CohortCheck
import Testing

@Suite struct AckedWriteCheckerTests {
    func log(_ pairs: [(String, String?)]) -> [CommittedWrite] {
        pairs.map { CommittedWrite(key: bytes($0.0), value: $0.1.map(bytes)) }
    }

    @Test func everyAcknowledgedWriteInTheLogPasses() {
        var checker = AckedWriteChecker()
        checker.recordAcknowledged(key: bytes("x"), value: bytes("1"))
        checker.recordAcknowledged(key: bytes("x"), value: bytes("2"))
        checker.recordAcknowledged(key: bytes("y"), value: nil)
        let committed = log([("x", "1"), ("z", "unacknowledged"), ("x", "2"), ("y", nil)])
        #expect(checker.check(committedLog: committed).isEmpty)
    }

    @Test func missingWriteIsReported() {
        var checker = AckedWriteChecker()
        checker.recordAcknowledged(key: bytes("x"), value: bytes("1"))
        checker.recordAcknowledged(key: bytes("x"), value: bytes("2"))
        let lost = checker.check(committedLog: log([("x", "1")]))
        #expect(lost.count == 1)
        #expect(lost.first?.reason == .missing)
        #expect(lost.first?.write.value == bytes("2"))
        #expect(
            lost.first?.description == "acknowledged write x 2 [2, 3] is not in the committed log")
    }

    @Test func olderWriteAppliedAfterNewerOneIsReported() {
        var checker = AckedWriteChecker()
        checker.recordAcknowledged(key: bytes("x"), value: bytes("1"))
        checker.recordAcknowledged(key: bytes("x"), value: bytes("2"))
        let lost = checker.check(committedLog: log([("x", "2"), ("x", "1")]))
        #expect(lost.map(\.write.value) == [bytes("2")])
        #expect(lost.first?.reason == .overwrittenByOlderWrite(checker.acknowledged[0]))
    }

    @Test func concurrentWritesMayCommitInEitherOrder() {
        var checker = AckedWriteChecker()
        checker.recordAcknowledged(
            AcknowledgedWrite(
                key: bytes("x"), value: bytes("1"), invocationPosition: 0,
                acknowledgementPosition: 3))
        checker.recordAcknowledged(
            AcknowledgedWrite(
                key: bytes("x"), value: bytes("2"), invocationPosition: 1,
                acknowledgementPosition: 2))
        #expect(checker.check(committedLog: log([("x", "2"), ("x", "1")])).isEmpty)
        #expect(checker.check(committedLog: log([("x", "1"), ("x", "2")])).isEmpty)
    }

    @Test func collectsAcknowledgedWritesFromAHistory() {
        let recorded = history(
            """
            p1 invoke write x 1
            p1 ok
            p2 invoke cas x 1 2
            p2 ok
            p3 invoke write x 3
            p3 info
            p4 invoke write x 4
            p4 fail
            """)
        let checker = AckedWriteChecker(history: recorded)
        #expect(checker.acknowledged.map(\.value) == [bytes("1"), bytes("2")])
        #expect(checker.check(committedLog: log([("x", "1"), ("x", "3"), ("x", "2")])).isEmpty)
        #expect(checker.check(committedLog: log([("x", "2"), ("x", "1")])).count == 1)
    }

    @Test func finalStateMustBeExplainedByTheHistory() {
        let recorded = history(
            """
            p1 invoke write x 1
            p1 ok
            p1 invoke write x 2
            p1 ok
            p2 invoke write y 7
            p2 info
            """)
        let good = AckedWriteChecker.checkFinalState(
            of: recorded, finalValues: [(bytes("x"), bytes("2")), (bytes("y"), nil)])
        #expect(good == .linearizable)
        let alsoGood = AckedWriteChecker.checkFinalState(
            of: recorded, finalValues: [(bytes("x"), bytes("2")), (bytes("y"), bytes("7"))])
        #expect(alsoGood == .linearizable)
        // The acknowledged write of 2 was lost: the final read shows the older 1.
        let lost = AckedWriteChecker.checkFinalState(
            of: recorded, finalValues: [(bytes("x"), bytes("1")), (bytes("y"), nil)])
        #expect(lost.explanation?.blockedOperation.process == ProcessID(3))
        #expect(lost.explanation?.valueAfterPrefix == bytes("2"))
    }
}
