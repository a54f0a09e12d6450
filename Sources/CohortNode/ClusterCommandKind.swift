/// How a clustered node runs a client command.
public enum ClusterCommandKind: Equatable, Sendable {
    /// Changes data: evaluated by the leader and replicated (followers forward it).
    case write
    /// Reads data: runs locally once the session's read consistency allows.
    case read
    /// WAIT: answered by the leader from its followers' progress.
    case wait
    /// Connection and server commands (PING, HELLO, INFO, COHORT ...), and anything refused
    /// before it could run (unknown, unauthenticated): run here, at once.
    case local

    /// Classifies `arguments` as `session` would run them on `executor`.
    public init(_ arguments: [[UInt8]], executor: CommandExecutor, session: ClientSession) {
        guard let name = arguments.first, let spec = executor.spec(named: name),
            session.authenticated || spec.allowedWithoutAuth
        else {
            self = .local
            return
        }
        if session.queued != nil || spec.name == "exec" {
            // Inside MULTI every command is queued (or refused) here; EXEC sends the queue to
            // the leader as one write (see `CommandExecutor.takeQueuedTransaction`), and so
            // does a queued form another node sent. EXEC with nothing to run (no MULTI, or a
            // doomed one) is answered here.
            let runs = session.queued.map { !$0.failed } ?? (arguments.count > 1)
            self = spec.name == "exec" && runs ? .write : .local
            return
        }
        if spec.name == "cohort" && arguments.count >= 2
            && CommandExecutor.isNamed(arguments[1], "NODE")
        {
            // Membership changes are decided by the leader, like writes.
            self = .write
        } else if spec.name == "wait" {
            self = .wait
        } else if spec.flags.contains("write") {
            self = .write
        } else if spec.flags.contains("readonly") {
            self = .read
        } else {
            self = .local
        }
    }
}
