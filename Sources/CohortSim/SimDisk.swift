/// One node's simulated disk. Writes are pending (in the page cache) until an fsync that was
/// issued after them completes; a crash loses every pending write, except that the disk may
/// have written a prefix of them in order, the last of which may be torn. Durable state
/// survives crashes and is what a restarted node recovers from.
public struct SimDisk<Image: DurableImage>: Sendable {
    /// Identifies an fsync: it covers every write issued before it.
    public struct SyncToken: Hashable, Sendable {
        /// The number of writes issued when the fsync started.
        public var writesIssued: UInt64
        /// The number of crashes before the fsync started; a crash voids the fsyncs in flight.
        public var crashesBefore: Int
    }

    /// The most writes that may be pending at once; a driver that never fsyncs traps here.
    public let pendingCountMax: Int
    /// What survives a crash.
    public private(set) var durable: Image
    /// Writes issued but not yet covered by a completed fsync, oldest first.
    public private(set) var pending: [Image.Record] = []
    /// Writes issued over the disk's life.
    public private(set) var writesIssued: UInt64 = 0
    /// Writes that are durable (synced, or kept by a crash).
    public private(set) var writesDurable: UInt64 = 0
    /// Pending writes lost to crashes.
    public private(set) var writesLost = 0
    /// Writes cut short by crashes.
    public private(set) var writesTorn = 0
    /// Crashes over the disk's life.
    public private(set) var crashCount = 0

    /// A disk whose durable content is `image`.
    public init(image: Image, pendingCountMax: Int = 100_000) {
        self.durable = image
        self.pendingCountMax = pendingCountMax
    }

    /// Issues a write; it is pending until a later fsync completes.
    public mutating func write(_ record: Image.Record) {
        precondition(
            pending.count < pendingCountMax,
            "SimDisk has \(pending.count) pending writes, the bound is \(pendingCountMax)")
        pending.append(record)
        writesIssued += 1
    }

    /// Starts an fsync covering every write issued so far; pass the token to `completeSync`
    /// when the simulated fsync latency has passed.
    public func startSync() -> SyncToken {
        SyncToken(writesIssued: writesIssued, crashesBefore: crashCount)
    }

    /// Completes an fsync: the writes it covers become durable, in order. An fsync started
    /// before the last crash does nothing: the crash already decided what survived.
    public mutating func completeSync(_ token: SyncToken) {
        guard token.crashesBefore == crashCount else { return }
        while writesDurable < token.writesIssued, !pending.isEmpty {
            durable.apply(pending.removeFirst())
            writesDurable += 1
        }
    }

    /// A crash. The disk had written some prefix of the pending writes to the platter (often
    /// none); the last write of that prefix may be torn. Everything after it is lost. Returns
    /// the durable image a restarting node recovers from.
    @discardableResult
    public mutating func crash(random: inout SimRandom, keepsUnsyncedPrefix: Bool) -> Image {
        var kept = 0
        if keepsUnsyncedPrefix && !pending.isEmpty {
            kept = random.integer(in: 0...pending.count)
        }
        for index in 0..<kept {
            let record = pending[index]
            if index == kept - 1 && random.chance(0.5) {
                writesTorn += 1
                if let survivor = Image.torn(record, random: &random) {
                    durable.apply(survivor)
                }
            } else {
                durable.apply(record)
            }
        }
        writesLost += pending.count - kept
        writesDurable += UInt64(kept)
        // Writes issued before the crash are accounted for; restart numbering from here so
        // an fsync issued before the crash can never cover a write issued after it.
        writesIssued = writesDurable
        pending.removeAll()
        crashCount += 1
        return durable
    }
}
