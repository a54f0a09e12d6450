/// One operation of a ``History``: what was asked, by whom, on which key, when (as event
/// positions) and how it ended.
public struct Operation: Hashable, Sendable {
    /// The operation's id: its position in ``History/operations``.
    public var id: OperationID
    /// The client that issued it.
    public var process: ProcessID
    /// The key the operation touches. Any bytes; rendered as text when printable.
    public var key: [UInt8]
    /// What the operation asks for.
    public var kind: OperationKind
    /// Position of the invocation event in ``History/events``.
    public var invocationPosition: Int
    /// Position of the completion event in ``History/events``; `nil` while pending.
    public var completionPosition: Int?
    /// How the operation ended; `nil` while pending. A pending operation is checked as `info`.
    public var outcome: OperationOutcome?

    /// Creates an operation record. ``History`` builds these; tests may too.
    public init(
        id: OperationID, process: ProcessID, key: [UInt8], kind: OperationKind,
        invocationPosition: Int, completionPosition: Int? = nil, outcome: OperationOutcome? = nil
    ) {
        self.id = id
        self.process = process
        self.key = key
        self.kind = kind
        self.invocationPosition = invocationPosition
        self.completionPosition = completionPosition
        self.outcome = outcome
    }

    /// The outcome a checker uses: a pending operation counts as indeterminate.
    public var effectiveOutcome: OperationOutcome { outcome ?? .info }

    /// A one-line rendering such as `p1 cas x 1 2 -> ok [3, 7]`: process, kind, key, arguments,
    /// outcome (the read value for reads) and the invocation and completion positions.
    public var summary: String {
        var text = "\(process) \(kind.name) \(ByteStringText.render(key))"
        switch kind {
        case .read:
            break
        case .write(let value):
            text += " \(ByteStringText.render(value))"
        case .compareAndSet(let expected, let new):
            text += " \(ByteStringText.render(expected)) \(ByteStringText.render(new))"
        }
        switch outcome {
        case nil:
            text += " -> pending"
        case .ok(let value):
            if case .read = kind {
                text += " -> \(ByteStringText.render(value))"
            } else {
                text += " -> ok"
            }
        case .fail:
            text += " -> fail"
        case .info:
            text += " -> info"
        }
        let end = completionPosition.map { String($0) } ?? "inf"
        text += " [\(invocationPosition), \(end)]"
        return text
    }
}
