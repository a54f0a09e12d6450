import CohortCore
import CohortNode
import CohortStorage
import NIOCore

/// A client parked in a blocking command (BLPOP and the like): what it runs, what it waits
/// for, and where its attempts stand.
struct BlockedClient {
    let arguments: [[UInt8]]
    let wait: BlockingWait
    /// The engine whose writes wake it; nil when the session's keyspace is not replicated here
    /// (proxied): then it polls every `RESPConnectionHandler.blockedPollMillis`.
    let engine: StorageEngine?
    /// Where it is counted in INFO's `blocked_clients`.
    let statistics: ServerStatistics
    /// Cluster mode: the slot its reply fills.
    let slot: Int?
    var waiter: KeyWaiterID?
    var timer: Scheduled<Void>?
    var poll: Scheduled<Void>?
    /// Cluster mode: an attempt is at the leader (it may pop, so its answer is always awaited).
    var attemptInFlight = false
    /// A write came while the attempt was in flight: try again when it answers null.
    var wokeDuringAttempt = false
    /// The timeout passed while an attempt was in flight: its answer, whatever it is, is final.
    var timedOut = false
    /// The last attempt's null reply (the null array, or null for BLMOVE), sent at the timeout.
    var lastReply = RESPValue.nullArray
}

/// Blocking commands. The executor runs one attempt at a time and never blocks (see
/// `CommandExecutor+Blocking`); the connection parks the client between attempts. It
/// registers with the engine for writes to the keys before each attempt, so that a push
/// committed between an attempt and the wait is never missed: the engine wakes it after any
/// commit, replicated apply or restore that wrote one of them, and it tries again. In cluster
/// mode an attempt is a write the leader evaluates, from whichever node the client is on: a
/// follower's client is woken when the push reaches the follower by replication. The
/// connection runs nothing else while blocked, as Redis does. Several clients woken by one
/// push race for the element; the losers wait again (Redis serves them in the order they
/// blocked).
extension RESPConnectionHandler {
    /// How often a client blocked on a keyspace this node does not replicate tries again.
    static let blockedPollMillis: Int64 = 100

    /// Starts `arguments` as a blocking command: one attempt now, then waiting if it found
    /// nothing. Cluster mode reserves the reply's slot first.
    func startBlocking(_ arguments: [[UInt8]], _ wait: BlockingWait, context: ChannelHandlerContext)
    {
        let slot = cluster == nil ? nil : beginAsync(.write, context: context).slot
        blocked = BlockedClient(
            arguments: arguments, wait: wait,
            engine: remoteKeyspace == nil ? executor.engine : nil,
            statistics: executor.statistics, slot: slot)
        executor.statistics.blockedClients.add(1)
        watchBlockedKeys(context: context)
        if wait.timeoutMillis > 0 {
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            blocked?.timer = context.eventLoop.scheduleTask(
                in: .milliseconds(Int64(clamping: wait.timeoutMillis))
            ) { handler.value.blockedTimedOut() }
        }
        // Called from `processRequests`, which goes on by itself when this attempt answers.
        attemptBlocked(context: context, resumes: false)
    }

    /// Registers for the next write to the blocked keys (or schedules the next poll).
    private func watchBlockedKeys(context: ChannelHandlerContext) {
        guard let client = blocked else { return }
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        guard let engine = client.engine else {
            blocked?.poll = loop.scheduleTask(in: .milliseconds(Self.blockedPollMillis)) {
                handler.value.blockedKeysWritten()
            }
            return
        }
        // The wake runs on the writer's thread (or inside the replication driver's apply): it
        // only hands the retry to this connection's loop.
        blocked?.waiter = engine.waitForWrites(to: client.wait.keys) {
            loop.execute { handler.value.blockedKeysWritten() }
        }
    }

    /// One attempt: run here (a single node) or submitted to the leader (cluster mode). When
    /// it pops at once on a single node, `resumes` says whether to run the requests behind it.
    private func attemptBlocked(context: ChannelHandlerContext, resumes: Bool = true) {
        guard let client = blocked else { return }
        guard cluster != nil, let slot = client.slot else {
            let outcome = executor.execute(
                client.arguments, session: &session, nowMillis: WallClock.nowMillis())
            guard outcome.reply.isNull else {
                return finishBlocked(outcome, context: context, resumes: resumes)
            }
            blocked?.lastReply = outcome.reply
            return
        }
        blocked?.attemptInFlight = true
        blocked?.wokeDuringAttempt = false
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        // Always a hop: the answer may come inside the driver's processing, which another
        // attempt must not re-enter.
        let completion: @Sendable (RESPValue, UInt64) -> Void = { reply, token in
            loop.execute { handler.value.blockedAttemptDone(slot, reply, token: token) }
        }
        if let remote = remoteKeyspace, let cluster {
            cluster.proxy(
                client.arguments, to: remote, isWrite: true, token: session.token,
                ackMode: session.ackMode ?? cluster.catalog.definition(named: remote)?.ackMode
                    ?? executor.configuration.ackMode,
                consistency: session.readConsistency, completion: completion)
        } else {
            driver?.submitWrite(
                client.arguments, token: session.token,
                ackMode: session.ackMode ?? executor.configuration.ackMode,
                completion: completion)
        }
    }

    /// A write to a blocked key (or a poll): wait again, then try again.
    func blockedKeysWritten() {
        guard let context, let client = blocked else { return }
        blocked?.waiter = nil
        blocked?.poll = nil
        watchBlockedKeys(context: context)
        if client.attemptInFlight {
            blocked?.wokeDuringAttempt = true
        } else {
            attemptBlocked(context: context)
        }
    }

    /// Cluster mode: the leader's answer to an attempt.
    private func blockedAttemptDone(_ slot: Int, _ reply: RESPValue, token: UInt64) {
        guard let context, let client = blocked, client.slot == slot else { return }
        blocked?.attemptInFlight = false
        if !reply.isNull || client.timedOut {
            finishBlocked(CommandOutcome(reply), token: token, context: context)
        } else {
            session.token = max(session.token, token)
            blocked?.lastReply = reply
            if client.wokeDuringAttempt { attemptBlocked(context: context) }
        }
    }

    /// The timeout: the null reply, unless an attempt is still out (it may have popped).
    private func blockedTimedOut() {
        guard let context, let client = blocked else { return }
        blocked?.timer = nil
        if client.attemptInFlight {
            blocked?.timedOut = true
        } else {
            finishBlocked(CommandOutcome(client.lastReply), context: context)
        }
    }

    /// Unparks the client with `outcome` and runs the requests that waited behind it.
    private func finishBlocked(
        _ outcome: CommandOutcome, token: UInt64 = 0, context: ChannelHandlerContext,
        resumes: Bool = true
    ) {
        guard let client = blocked else { return }
        stopBlocking()
        if let slot = client.slot {
            clusterCommandDone(slot, outcome.reply, token: token)
        } else {
            enqueue(outcome, context: context)
            guard resumes else { return }
            processRequests(context: context)
            flushLater()
        }
    }

    /// Forgets the blocked command: its registration, timer and poll.
    func stopBlocking() {
        guard let client = blocked else { return }
        if let waiter = client.waiter { client.engine?.stopWaiting(waiter) }
        client.timer?.cancel()
        client.poll?.cancel()
        client.statistics.blockedClients.add(-1)
        blocked = nil
    }

    /// Server shutdown: a parked client gets its null reply now (unless an attempt is out).
    func unblockForShutdown() {
        guard let context, let client = blocked, !client.attemptInFlight else { return }
        finishBlocked(CommandOutcome(client.lastReply), context: context)
    }
}
