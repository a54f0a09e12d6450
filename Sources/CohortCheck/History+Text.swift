// The compact text form of a history, one event per line, for explanations, golden tests and
// hand-written test histories:
//
//     p1 invoke write x 1      # p1 sends write(x, 1)
//     p2 invoke read x
//     p1 ok                    # write and cas succeed with a bare `ok`
//     p2 ok 1                  # a read's `ok` carries the value read (`nil`: absent)
//     p3 invoke cas x 1 2      # compare-and-set x from 1 to 2
//     p3 fail                  # definitely not applied
//     p4 invoke write x 3
//     p4 info                  # indeterminate
//
// A completion refers to the one operation its process has outstanding. Values are bare words
// or quoted strings with escapes; `#` starts a comment.

extension History {
    /// Renders the history in the text form, one event per line, each line ending in a newline.
    /// ``init(parsing:)`` reads it back to an equal history.
    public var text: String {
        var text = ""
        for event in events {
            text += line(for: event)
            text += "\n"
        }
        return text
    }

    /// The text-form line of one event.
    public func line(for event: HistoryEvent) -> String {
        let operation = operations[event.operation.rawValue]
        switch event {
        case .invocation:
            var line = "\(operation.process) invoke \(operation.kind.name) "
            line += ByteStringText.render(operation.key)
            switch operation.kind {
            case .read:
                break
            case .write(let value):
                line += " " + ByteStringText.render(value)
            case .compareAndSet(let expected, let new):
                line += " " + ByteStringText.render(expected) + " " + ByteStringText.render(new)
            }
            return line
        case .completion:
            let outcome = operation.outcome ?? .info
            var line = "\(operation.process) \(outcome.name)"
            if case .ok(let value) = outcome, case .read = operation.kind {
                line += " " + ByteStringText.render(value)
            }
            return line
        }
    }

    /// Parses the text form. Blank lines and `#` comments are ignored.
    public init(parsing text: String) throws(HistoryParseError) {
        self.init()
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            do {
                try parseLine(String(rawLine))
            } catch {
                throw HistoryParseError(line: lineNumber, message: error.message)
            }
        }
    }

    private mutating func parseLine(_ line: String) throws(HistoryParseError) {
        let tokens: [ByteStringText.Token]
        switch ByteStringText.tokenize(line) {
        case .success(let parsed): tokens = parsed
        case .failure(let error): throw error
        }
        guard let first = tokens.first else { return }
        guard case .bare(let processWord) = first, processWord.first == "p",
            let raw = UInt64(processWord.dropFirst())
        else {
            throw HistoryParseError(line: 0, message: "expected a process like p1, found \(first)")
        }
        let process = ProcessID(raw)
        guard tokens.count >= 2, case .bare(let verb) = tokens[1] else {
            throw HistoryParseError(line: 0, message: "expected invoke, ok, fail or info")
        }
        let outstanding = operations.last { $0.process == process && $0.outcome == nil }
        switch verb {
        case "invoke":
            if let outstanding {
                throw HistoryParseError(
                    line: 0, message: "\(process) already has \(outstanding.summary) outstanding")
            }
            guard tokens.count >= 4, case .bare(let kindWord) = tokens[2] else {
                throw HistoryParseError(line: 0, message: "expected: pN invoke KIND KEY [ARGS]")
            }
            let key = ByteStringText.bytes(tokens[3])
            let arguments = tokens.dropFirst(4).map(ByteStringText.value)
            let kind: OperationKind
            switch (kindWord, arguments.count) {
            case ("read", 0): kind = .read
            case ("write", 1): kind = .write(arguments[0])
            case ("cas", 2): kind = .compareAndSet(expected: arguments[0], new: arguments[1])
            default:
                throw HistoryParseError(
                    line: 0,
                    message: "bad operation \(kindWord) with \(arguments.count) arguments; "
                        + "expected read KEY, write KEY VALUE or cas KEY EXPECTED NEW")
            }
            invoke(process: process, key: key, kind: kind)
        case "ok", "fail", "info":
            guard let outstanding else {
                throw HistoryParseError(line: 0, message: "\(process) has no outstanding operation")
            }
            let outcome: OperationOutcome
            switch (verb, outstanding.kind, tokens.count) {
            case ("ok", .read, 3): outcome = .ok(ByteStringText.value(tokens[2]))
            case ("ok", .read, _):
                throw HistoryParseError(line: 0, message: "a read's ok needs the value read")
            case ("ok", _, 2): outcome = .ok(nil)
            case ("fail", _, 2): outcome = .fail
            case ("info", _, 2): outcome = .info
            default:
                throw HistoryParseError(line: 0, message: "unexpected arguments after \(verb)")
            }
            complete(outstanding.id, outcome)
        default:
            throw HistoryParseError(line: 0, message: "unknown verb \(verb)")
        }
    }
}
