/// A command that cannot run, with the reply Redis clients expect for it. The error text is
/// the whole line after `-`, starting with the error code.
public struct CommandError: Error, Sendable, Equatable {
    public let message: String

    public init(_ message: String) { self.message = message }

    static let syntax = CommandError("ERR syntax error")
    static let notInteger = CommandError("ERR value is not an integer or out of range")
    static let overflow = CommandError("ERR increment or decrement would overflow")
    static let wrongType = CommandError(
        "WRONGTYPE Operation against a key holding the wrong kind of value")
    static let noAuth = CommandError("NOAUTH Authentication required.")
    static let invalidPassword = CommandError(
        "WRONGPASS invalid username-password pair or user is disabled.")

    static func wrongArity(_ name: String) -> CommandError {
        CommandError("ERR wrong number of arguments for '\(name)' command")
    }

    static func invalidExpireTime(_ name: String) -> CommandError {
        CommandError("ERR invalid expire time in '\(name)' command")
    }
}
