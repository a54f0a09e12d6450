import CohortCheck
import Testing

@Suite struct HistoryTests {
    @Test func recorderAssignsEventPositionsAsTimestamps() {
        var history = History()
        let write = history.invoke(process: ProcessID(1), key: "x", kind: .write(Array("1".utf8)))
        let read = history.invoke(process: ProcessID(2), key: "x", kind: .read)
        history.complete(write, .ok(nil))
        history.complete(read, .ok(Array("1".utf8)))
        #expect(
            history.events == [
                .invocation(write), .invocation(read), .completion(write), .completion(read),
            ])
        #expect(history[write].invocationPosition == 0)
        #expect(history[write].completionPosition == 2)
        #expect(history[read].outcome == .ok(Array("1".utf8)))
        #expect(history.pendingOperations.isEmpty)
    }

    @Test func textRoundTrips() throws {
        let text = """
            p1 invoke write x 1
            p2 invoke read x
            p1 ok
            p2 ok 1
            p3 invoke cas x 1 "two words"
            p4 invoke write "a key\\x00" nil
            p3 fail
            p4 info
            p5 invoke read nil-key
            p5 ok nil
            p6 invoke write x "nil"

            """
        let history = try History(parsing: text)
        #expect(history.operations.count == 6)
        #expect(
            history.operations[2].kind
                == .compareAndSet(expected: Array("1".utf8), new: Array("two words".utf8)))
        #expect(history.operations[3].key == Array("a key".utf8) + [0])
        #expect(history.operations[3].kind == .write(nil))
        #expect(history.operations[4].outcome == .ok(nil))
        #expect(history.operations[5].kind == .write(Array("nil".utf8)))
        #expect(history.operations[5].outcome == nil)
        #expect(history.text == text)
        #expect(try History(parsing: history.text) == history)
    }

    @Test func parserRejectsMalformedLinesWithTheLineNumber() {
        #expect(throws: HistoryParseError(line: 3, message: "p1 has no outstanding operation")) {
            try History(parsing: "p1 invoke read x\np1 ok 1\np1 ok 2")
        }
        #expect(throws: HistoryParseError.self) { try History(parsing: "p1 invoke read x\np1 ok") }
        #expect(throws: HistoryParseError.self) { try History(parsing: "p1 invoke write x \"open") }
        #expect(throws: HistoryParseError.self) { try History(parsing: "q1 invoke read x") }
        #expect(throws: HistoryParseError.self) {
            try History(parsing: "p1 invoke read x\np1 invoke read y")
        }
    }
}
