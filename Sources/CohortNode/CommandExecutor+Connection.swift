import CohortCore

/// Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, CLIENT.
extension CommandExecutor {
    /// The Redis protocol version Cohort speaks, reported by HELLO and INFO so that clients
    /// which gate features on it behave as with Redis 7.2.
    static let compatibleRedisVersion = "7.2.0"
    /// Cohort's own version.
    public static let cohortVersion = "0.1.0"

    static let connectionCommands: [CommandSpec] = [
        CommandSpec("ping", arity: -1, flags: ["fast"]) { _, c in
            switch c.arguments.count {
            case 1: return CommandOutcome(.simpleString("PONG"))
            case 2: return CommandOutcome(.bulkString(c.arguments[1]))
            default: throw CommandError.wrongArity("ping")
            }
        },
        CommandSpec("echo", arity: 2, flags: ["fast"]) { _, c in
            CommandOutcome(.bulkString(c.arguments[1]))
        },
        CommandSpec("quit", arity: -1, flags: ["fast"], allowedWithoutAuth: true) { _, _ in
            CommandOutcome(.simpleString("OK"), closeAfterReply: true)
        },
        CommandSpec("select", arity: 2, flags: ["fast"]) { _, c in
            let index = try c.integer(1)
            guard index == 0 else { throw CommandError("ERR DB index is out of range") }
            return .ok
        },
        CommandSpec("auth", arity: -2, flags: ["fast"], allowedWithoutAuth: true) { e, c in
            guard c.arguments.count <= 3 else { throw CommandError.syntax }
            let user = c.arguments.count == 3 ? c.arguments[1] : Array("default".utf8)
            try e.authenticate(user: user, password: c.arguments.last!, session: &c.session)
            return .ok
        },
        CommandSpec("hello", arity: -1, flags: ["fast"], allowedWithoutAuth: true) { e, c in
            try e.hello(&c)
        },
        CommandSpec("client", arity: -2, flags: []) { e, c in try e.client(&c) },
    ]

    func authenticate(user: [UInt8], password: [UInt8], session: inout ClientSession) throws {
        guard let expected = configuration.password else {
            throw CommandError(
                "ERR AUTH <password> called without any password configured for the default user. "
                    + "Are you sure your configuration is correct?")
        }
        // Compare without an early exit so the time taken does not reveal a matching prefix.
        let given = password
        let wanted = Array(expected.utf8)
        var difference = given.count ^ wanted.count
        for index in 0..<max(given.count, wanted.count) {
            let a = index < given.count ? given[index] : 0
            let b = index < wanted.count ? wanted[index] : 0
            difference |= Int(a ^ b)
        }
        guard user == Array("default".utf8), difference == 0 else {
            session.authenticated = false
            throw CommandError.invalidPassword
        }
        session.authenticated = true
    }

    /// HELLO [protover [AUTH username password] [SETNAME clientname]]
    func hello(_ c: inout CommandContext) throws -> CommandOutcome {
        var version = c.session.protocolVersion
        var index = 1
        if c.arguments.count > 1 {
            guard let requested = Int64(redisBytes: c.arguments[1]) else {
                throw CommandError("ERR Protocol version is not an integer or out of range")
            }
            switch requested {
            case 2: version = .resp2
            case 3: version = .resp3
            default: throw CommandError("NOPROTO unsupported protocol version")
            }
            index = 2
        }
        var session = c.session
        while index < c.arguments.count {
            switch c.option(index) {
            case "AUTH" where index + 2 < c.arguments.count:
                if configuration.password != nil {
                    try authenticate(
                        user: c.arguments[index + 1], password: c.arguments[index + 2],
                        session: &session)
                }
                index += 3
            case "SETNAME" where index + 1 < c.arguments.count:
                try CommandExecutor.validateClientName(c.arguments[index + 1])
                session.name = c.arguments[index + 1]
                index += 2
            default:
                throw CommandError(
                    "ERR Syntax error in HELLO option '\(String(decoding: c.arguments[index], as: UTF8.self))'"
                )
            }
        }
        guard session.authenticated else {
            throw CommandError(
                "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
                    + "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the "
                    + "client and select the RESP protocol version at the same time")
        }
        session.protocolVersion = version
        c.session = session
        let fields: [(String, RESPValue)] = [
            ("server", .bulkString(Array("redis".utf8))),
            ("version", .bulkString(Array(CommandExecutor.compatibleRedisVersion.utf8))),
            ("proto", .integer(version == .resp3 ? 3 : 2)),
            ("id", .integer(Int64(session.id))),
            ("mode", .bulkString(Array("standalone".utf8))),
            ("role", .bulkString(Array("master".utf8))),
            ("modules", .array([])),
            ("cohort_version", .bulkString(Array(CommandExecutor.cohortVersion.utf8))),
        ]
        return CommandOutcome(.map(fields.map { (.bulkString(Array($0.0.utf8)), $0.1) }))
    }

    static func validateClientName(_ name: [UInt8]) throws {
        // Redis refuses spaces, newlines and non-printable bytes in client names.
        guard name.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw CommandError(
                "ERR Client names cannot contain spaces, newlines or special characters.")
        }
    }

    func client(_ c: inout CommandContext) throws -> CommandOutcome {
        switch c.option(1) {
        case "ID" where c.arguments.count == 2:
            return CommandOutcome(.integer(Int64(c.session.id)))
        case "SETNAME" where c.arguments.count == 3:
            try CommandExecutor.validateClientName(c.arguments[2])
            c.session.name = c.arguments[2].isEmpty ? nil : c.arguments[2]
            return .ok
        case "GETNAME" where c.arguments.count == 2:
            return CommandOutcome(c.session.name.map { .bulkString($0) } ?? .null)
        case "SETINFO" where c.arguments.count == 4:
            let value = String(decoding: c.arguments[3], as: UTF8.self)
            switch c.option(2) {
            case "LIB-NAME": c.session.libraryName = value
            case "LIB-VER": c.session.libraryVersion = value
            default:
                throw CommandError(
                    "ERR Unrecognized option '\(String(decoding: c.arguments[2], as: UTF8.self))'")
            }
            return .ok
        case "INFO" where c.arguments.count == 2:
            return CommandOutcome(.bulkString(Array((clientInfoLine(c.session) + "\n").utf8)))
        default:
            throw CommandError(
                "ERR unknown subcommand or wrong number of arguments for '"
                    + String(decoding: c.arguments[1], as: UTF8.self) + "'. Try CLIENT HELP.")
        }
    }

    func clientInfoLine(_ session: ClientSession) -> String {
        let name = session.name.map { String(decoding: $0, as: UTF8.self) } ?? ""
        return "id=\(session.id) addr=\(session.address) name=\(name) db=0 "
            + "resp=\(session.protocolVersion == .resp3 ? 3 : 2) "
            + "lib-name=\(session.libraryName ?? "") lib-ver=\(session.libraryVersion ?? "")"
    }
}
