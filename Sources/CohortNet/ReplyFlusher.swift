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
/// Only ever touched on its event loop.
final class ReplyFlusher: @unchecked Sendable {
    let eventLoop: any EventLoop
    private var pending: [RESPConnectionHandler] = []
    private var spare: [RESPConnectionHandler] = []
    private var scheduled = false

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Flushes `handler` at the end of the loop's turn. The handler asks at most once per turn.
    func flushLater(_ handler: RESPConnectionHandler) {
        eventLoop.assertInEventLoop()
        pending.append(handler)
        guard !scheduled else { return }
        scheduled = true
        eventLoop.execute { self.flushPending() }
    }

    private func flushPending() {
        scheduled = false
        // Handlers flushed now may ask again (a write completes, a durability callback runs);
        // those go to the next round.
        swap(&pending, &spare)
        for handler in spare { handler.flushNow() }
        spare.removeAll(keepingCapacity: true)
    }
}
