/// The static description of one command: what COMMAND reports and how arguments are
/// checked before the handler runs. A class, so that looking one up for every request copies a
/// reference, not a name, a flag list and a closure (a reference count each).
public final class CommandSpec: Sendable {
    /// Lower-case name, as Redis reports it.
    public let name: String
    /// Redis arity: N means exactly N arguments including the name; -N means at least N.
    public let arity: Int
    public let flags: [String]
    public let firstKey: Int
    public let lastKey: Int
    public let keyStep: Int
    /// Whether the command may run before authentication.
    public let allowedWithoutAuth: Bool
    /// The handler. It changes `context.session` only once it can no longer fail: the session
    /// it leaves is the connection's, whether it returns or throws.
    let run: @Sendable (CommandExecutor, inout CommandContext) throws -> CommandOutcome

    init(
        _ name: String, arity: Int, flags: [String], keys: (Int, Int, Int) = (0, 0, 0),
        allowedWithoutAuth: Bool = false,
        run: @escaping @Sendable (CommandExecutor, inout CommandContext) throws -> CommandOutcome
    ) {
        self.name = name
        self.arity = arity
        self.flags = flags
        self.firstKey = keys.0
        self.lastKey = keys.1
        self.keyStep = keys.2
        self.allowedWithoutAuth = allowedWithoutAuth
        self.run = run
    }

    /// Calls `body` with each key of a request of `count` arguments, by position, as Redis's
    /// first key, last key (negative: from the end) and step describe them.
    @inline(__always)
    func forEachKeyPosition(argumentCount count: Int, _ body: (Int) -> Void) {
        guard firstKey > 0, keyStep > 0, firstKey < count else { return }
        let last = lastKey < 0 ? count + lastKey : min(lastKey, count - 1)
        var position = firstKey
        while position <= last {
            body(position)
            position += keyStep
        }
    }

    /// Whether `count` arguments (including the command name) satisfy the arity.
    func accepts(argumentCount count: Int) -> Bool {
        arity >= 0 ? count == arity : count >= -arity
    }
}

/// The arguments and session a handler works on, and the time the command started.
public struct CommandContext {
    public var arguments: [[UInt8]]
    public var session: ClientSession
    public let nowMillis: UInt64
    /// Set when a replication leader evaluates a write: writes are collected, not committed.
    public let speculation: Speculation?
    /// Set while EXEC runs the command: reads and writes go through the batch's transaction.
    var batch: ExecBatch?

    /// The argument at `index` as an upper-cased ASCII string, for option names.
    func option(_ index: Int) -> String {
        String(decoding: CommandExecutor.upperCased(arguments[index]), as: UTF8.self)
    }

    /// The argument at `index` parsed as a strict 64-bit integer, as Redis's string2ll does.
    func integer(_ index: Int) throws -> Int64 {
        guard let value = Int64(redisBytes: arguments[index]) else { throw CommandError.notInteger }
        return value
    }
}
