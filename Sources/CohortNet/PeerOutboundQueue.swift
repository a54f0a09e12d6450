import CohortRaft

/// Raft messages waiting for one peer's connection, bounded in count and bytes. When full, the
/// oldest message is dropped: Raft tolerates lost messages (the leader retransmits what is not
/// acknowledged, heartbeats repeat, elections restart), and the newest messages carry the most
/// current terms, commit indexes and entries, so they are the ones worth keeping.
struct PeerOutboundQueue {
    /// Most messages held.
    let messagesMax: Int
    /// Most encoded bytes held.
    let bytesMax: Int
    private var messages: [PeerOutbound] = []
    private var sizes: [Int] = []
    private var head = 0
    /// Encoded bytes held.
    private(set) var bytes = 0

    init(messagesMax: Int, bytesMax: Int) {
        precondition(messagesMax >= 1 && bytesMax >= 1, "queue bounds \(messagesMax)/\(bytesMax)")
        self.messagesMax = messagesMax
        self.bytesMax = bytesMax
    }

    /// Messages held.
    var count: Int { messages.count - head }

    var isEmpty: Bool { count == 0 }

    /// Adds `message` of `size` encoded bytes, dropping the oldest messages until both bounds
    /// hold. Returns how many were dropped (the message itself counts when it alone exceeds
    /// `bytesMax`).
    mutating func append(_ message: PeerOutbound, size: Int) -> Int {
        guard size <= bytesMax else { return 1 }
        var dropped = 0
        while count >= messagesMax || bytes + size > bytesMax {
            removeFirst()
            dropped += 1
        }
        messages.append(message)
        sizes.append(size)
        bytes += size
        return dropped
    }

    /// Removes and returns the oldest messages, up to `messagesMax` of them and up to
    /// `bytesMax` bytes, but always at least one when not empty.
    mutating func removeBatch(messagesMax batchMessagesMax: Int, bytesMax batchBytesMax: Int)
        -> [PeerOutbound]
    {
        var batch: [PeerOutbound] = []
        var batchBytes = 0
        while !isEmpty && batch.count < batchMessagesMax
            && (batch.isEmpty || batchBytes + sizes[head] <= batchBytesMax)
        {
            batchBytes += sizes[head]
            batch.append(messages[head])
            removeFirst()
        }
        return batch
    }

    /// Drops everything (the transport is shutting down).
    mutating func removeAll() {
        messages.removeAll()
        sizes.removeAll()
        head = 0
        bytes = 0
    }

    private mutating func removeFirst() {
        bytes -= sizes[head]
        head += 1
        // Compact once the consumed prefix dominates, keeping removal amortised O(1).
        if head == messages.count {
            messages.removeAll(keepingCapacity: true)
            sizes.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= messages.count {
            messages.removeFirst(head)
            sizes.removeFirst(head)
            head = 0
        }
    }
}
