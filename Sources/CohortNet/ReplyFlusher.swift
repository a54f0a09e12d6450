import CohortStorage
import NIOCore

/// Writes the replies of one event loop's connections once per turn of the loop rather than
/// once per connection read: the counterpart of Redis's writing every pending client just
/// before it sleeps (`handleClientsWithPendingWrites`).
///
/// Why: a connection's replies wake its client. Written one connection at a time, between the
/// reads of the next connections, each write found a client that had already gone back to
/// sleep, so a 50-connection pipelined benchmark paid a cross-core wake-up for nearly every
/// write. Written together after the loop has run everything that was readable, they reach a
/// client that is already awake, and by the time they are done, its next requests are waiting.
/// The flush task is queued with `execute`, which NIO runs after the turn's I/O events.
///
/// Durability is asked for here too, once per turn for all of the loop's connections that
/// hold replies until their writes are durable: one `whenDurable` (so one wake-up of the
/// group-commit thread) covering every write the loop ran this turn, and one task back on the
/// loop when the fsync is done, which releases them all. Asked per connection, as before, it
/// cost a wake-up and a task per connection and fsync. The loop goes on serving while the
/// fsync runs; what it runs meanwhile forms the next group.
///
/// Only ever touched on its event loop.
final class ReplyFlusher: @unchecked Sendable {
    let eventLoop: any EventLoop
    private var pending: [RESPConnectionHandler] = []
    private var spare: [RESPConnectionHandler] = []
    private var scheduled = false
    /// Connections holding replies until `syncSequence` of `syncEngine` is durable.
    private var syncWaiters: [RESPConnectionHandler] = []
    private var syncSequence: UInt64 = 0
    private var syncEngine: StorageEngine?
    /// Connections whose replies wait for records the engine could not write (a full disk).
    private var retrying: [RESPConnectionHandler] = []
    /// How long held replies wait before their records are written again.
    static let retryDelay = TimeAmount.milliseconds(50)

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Flushes `handler` at the end of the loop's turn. The handler asks at most once per turn.
    func flushLater(_ handler: RESPConnectionHandler) {
        eventLoop.assertInEventLoop()
        pending.append(handler)
        schedule()
    }

    /// Asks at the end of the loop's turn for `sequence` of `engine` to become durable, and
    /// tells `handler` when it is (`durabilityReached`, on the loop). The handler asks at most
    /// once until it is told.
    func syncLater(
        _ handler: RESPConnectionHandler, engine: StorageEngine, through sequence: UInt64
    ) {
        eventLoop.assertInEventLoop()
        precondition(
            syncEngine == nil || syncEngine === engine,
            "one loop's connections sync one storage engine")
        syncEngine = engine
        syncSequence = max(syncSequence, sequence)
        syncWaiters.append(handler)
        schedule()
    }

    /// Flushes `handler` again after `retryDelay`: its replies wait for records the storage
    /// engine could not write. The handler asks at most once until it is flushed.
    func retryLater(_ handler: RESPConnectionHandler) {
        eventLoop.assertInEventLoop()
        retrying.append(handler)
        guard retrying.count == 1 else { return }
        eventLoop.scheduleTask(in: Self.retryDelay) { [self] in
            pending.append(contentsOf: retrying)
            retrying.removeAll()
            schedule()
        }
    }

    private func schedule() {
        guard !scheduled else { return }
        scheduled = true
        eventLoop.execute { self.flushPending() }
    }

    private func flushPending() {
        scheduled = false
        syncPending()
        // Handlers flushed now may ask again (a write completes); those go to the next round.
        swap(&pending, &spare)
        for handler in spare { handler.flushNow() }
        spare.removeAll(keepingCapacity: true)
    }

    /// One durability request for every connection that waits; their replies are released on
    /// the loop when it is answered.
    private func syncPending() {
        guard let engine = syncEngine else { return }
        let sequence = syncSequence
        let waiters = syncWaiters
        syncEngine = nil
        syncSequence = 0
        syncWaiters.removeAll(keepingCapacity: true)
        if let result = engine.syncOnCaller(through: sequence) {
            for handler in waiters { handler.durabilityReached(sequence, result: result) }
            return
        }
        let bound = NIOLoopBound(waiters, eventLoop: eventLoop)
        engine.whenDurable(Commit(sequence: sequence)) { [eventLoop] result in
            eventLoop.execute {
                for handler in bound.value { handler.durabilityReached(sequence, result: result) }
            }
        }
    }
}
