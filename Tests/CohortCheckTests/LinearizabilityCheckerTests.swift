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
