import CohortCore
import CohortReplication

extension ProxiedCommand {
    /// Runs the command as a client of this node in the keyspace's group would: a write (or
    /// WAIT) through `submitWrite`, a read once `submitRead`'s gate opens, anything else at
    /// once on `executor`; `respond` gets the reply and the session's new token. Both hosts
    /// serve proxied commands through this (the NIO host's group driver and the simulator's
    /// runtime differ only in how they submit).
    public func serve(
        on executor: CommandExecutor, nowMillis: @escaping @Sendable () -> UInt64,
        submitWrite: (_ completion: @escaping @Sendable (RESPValue, UInt64) -> Void) -> Void,
        submitRead: (_ completion: @escaping @Sendable (ReadGate) -> Void) -> Void,
        respond: @escaping @Sendable (RESPValue, UInt64) -> Void
    ) {
        let session = ClientSession(id: 0, address: "proxy", authenticated: true)
        let arguments = self.arguments
        switch ClusterCommandKind(arguments, executor: executor, session: session) {
        case .write, .wait:
            submitWrite(respond)
        case .read:
            submitRead { gate in
                switch gate {
                case .proceed(let applied):
                    var running = session
                    let outcome = executor.execute(
                        arguments, session: &running, nowMillis: nowMillis())
                    respond(outcome.reply, applied)
                case .refused(let reply):
                    respond(reply, 0)
                }
            }
        case .local:
            var running = session
            let outcome = executor.execute(arguments, session: &running, nowMillis: nowMillis())
            respond(outcome.reply, 0)
        }
    }
}
