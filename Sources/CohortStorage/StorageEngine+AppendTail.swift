/// The append tail: commits append their records to memory and one `pwrite` writes them all,
/// instead of one `pwrite` per commit (a fifth of a server's time per SET, and more under
/// `everysec`, where no fsync stands beside it).
///
/// Under `.batch` the group-commit thread writes the tail just before the fsync that makes it
/// durable. Nothing is acknowledged earlier than before: a write only after that fsync, a read
/// only once what it saw is durable. If writing the tail fails, the engine fails as after a
/// failed fsync: every waiting and later write gets the error and nothing it covered is
/// acknowledged. (Redis under `appendfsync always` exits on a failed AOF write.)
///
/// Under `.everysec` and `.none` the tail is used only with `StorageOptions.defersAppendWrites`:
/// the caller (a server, once per turn of its event loop, before it sends that turn's replies)
/// calls `writeAppends`, and acknowledges a commit only once `sequences.written` covers it; the
/// everysec thread and the background thread write whatever is left. When that write fails (a
/// full disk), the file is cut back to its whole records, the tail stays in memory, writes are
/// refused with the error, and every later attempt tries again (`appendBlocked`): nothing
/// acknowledged is lost, and the engine recovers by itself once space comes back, as Redis
/// does under `appendfsync everysec`. Without `defersAppendWrites`, each commit is written at
/// once, and a failed write refuses just that commit.
///
/// Whatever must read the file first writes the tail or reads it from memory: a value read
/// that misses the cache reads records still in the tail from memory (`valueSourceLocked`); a
/// snapshot, rotation and close write it.
extension StorageEngine {
    /// The most bytes the tail holds before the committing thread writes it itself.
    static let appendTailBytesMax = 4 << 20

    /// Whether commits go to the append tail rather than straight to the file.
    var usesAppendTail: Bool { options.fsync == .batch || options.defersAppendWrites }

    /// Writes the records committed so far, if some still wait in memory, to the active
    /// segment's file (not an fsync: that remains the policy's). A server calls it once per
    /// turn of its event loop, before sending replies. Cheap when nothing waits: two atomic
    /// loads, no lock. Throws what writing failed with (see `StorageOptions.defersAppendWrites`:
    /// the records stay in memory and the next call tries again).
    public func writeAppends() throws(StorageError) {
        guard writtenSequence < lastSequence else { return }
        condition.lock()
        defer { condition.unlock() }
        if isClosed { throw .closed }
        try writeAppendTailLocked()
    }

    /// Makes the tail ready for a group of `count` bytes that belongs at `offset` of the active
    /// segment, writing it first when the group would take it past `appendTailBytesMax` (so
    /// that a failed write leaves the group out of it). The caller holds `condition`, then
    /// appends the group and advances the segment's size.
    func prepareTailLocked(appending count: Int, at offset: Int) throws(StorageError) {
        if !appendTail.isEmpty && appendTail.count + count > Self.appendTailBytesMax {
            try writeAppendTailLocked()
        }
        if appendTail.isEmpty {
            appendTailOffset = offset
        }
        precondition(
            appendTailOffset + appendTail.count == offset,
            "tail at \(appendTailOffset)+\(appendTail.count) does not end at append \(offset)")
    }

    /// Writes the tail to the active segment. On failure, under `.batch` the engine fails;
    /// otherwise the tail is kept and writes are blocked (see above). The caller holds
    /// `condition`.
    func writeAppendTailLocked() throws(StorageError) {
        guard !appendTail.isEmpty else { return }
        if let failure { throw failure }
        guard let file = segments[activeID]?.file else {
            preconditionFailure("append tail without an active segment \(activeID)")
        }
        do throws(StorageError) {
            try writeCuttingBackLocked(appendTail, to: file, at: appendTailOffset)
        } catch {
            // A failed cut-back has failed the engine already.
            if failure == nil && options.fsync == .batch {
                failure = .failed("write of \(file.name) failed: \(error)")
                condition.broadcast()
            }
            if let failure { throw failure }
            // Deferred appends: the tail is written again from its start by the next attempt.
            if appendBlocked == nil { counters.appendsBlocked += 1 }
            appendBlocked = error
            throw error
        }
        appendTailOffset += appendTail.count
        appendTail.removeAll(keepingCapacity: appendTail.capacity <= Self.appendTailBytesMax)
        appendBlocked = nil
        writtenSequence = lastSequence
        preallocateLocked(after: appendTailOffset)
    }

    /// Writes `bytes` at `offset` of the active segment's `file`. When the write fails, cuts
    /// off what part of it reached the file, so that the file ends with whole records whatever
    /// happens next, and throws the write's error; if even the cut fails, fails the engine.
    /// The caller holds `condition`.
    func writeCuttingBackLocked(
        _ bytes: [UInt8], to file: SegmentFile, at offset: Int
    ) throws(StorageError) {
        do throws(StorageError) {
            if let persistent = appendWritesFailForTesting { throw persistent }
            if let injected = appendFailureForTesting {
                appendFailureForTesting = nil
                if injected.bytesWritten > 0 {
                    try file.write(Array(bytes.prefix(injected.bytesWritten)), at: offset)
                }
                throw injected.error
            }
            try file.write(bytes, at: offset)
        } catch {
            do throws(StorageError) {
                try file.truncate(to: offset)
                segments[activeID]?.preallocatedEnd = 0
            } catch let cut {
                failure = .failed("could not cut back a failed append: \(cut)")
                condition.broadcast()
            }
            throw error
        }
    }

    /// Where the value of `entry` is read: from memory while its record waits in the append
    /// tail, otherwise from its segment file (outside the lock). Invariant: index entries point
    /// into segments in use, inside their appended bytes. The caller holds `condition`.
    func valueSourceLocked(for entry: IndexEntry) -> ValueSource {
        guard let state = segments[entry.segmentID] else {
            preconditionFailure("index entry points to missing segment \(entry.segmentID)")
        }
        precondition(
            Int(entry.offset) + Int(entry.recordLength) <= state.bytes,
            "index entry \(entry.offset)+\(entry.recordLength) beyond \(state.bytes) bytes of "
                + state.file.name)
        return ValueSource(entry: entry, file: state.file, pending: pendingRecordsLocked)
    }

    /// The records still in the tail: for reads of them, and for a snapshot taken while the
    /// tail cannot be written.
    var pendingRecordsLocked: PendingRecords? {
        appendTail.isEmpty
            ? nil
            : PendingRecords(segmentID: activeID, offset: appendTailOffset, bytes: appendTail)
    }

    /// After records were written through `end` of the active segment: once they reach the
    /// zeroes written ahead, writes the next stretch of zeroes (see
    /// `StorageOptions.segmentPreallocationBytes`), within the segment's size bound. Best
    /// effort: when it fails (a full disk), the file is cut back to its records and the segment
    /// is not extended again; the records are untouched either way.
    func preallocateLocked(after end: Int) {
        let step = options.segmentPreallocationBytes
        guard step > 0, let state = segments[activeID], end >= state.preallocatedEnd,
            end < options.segmentBytesMax
        else { return }
        do throws(StorageError) {
            if preallocationFailsForTesting {
                // A disk that fills halfway through the zeroes.
                _ = try state.file.writeZeroes(
                    from: end, aheadOf: end, step: step / 2, limit: options.segmentBytesMax)
                throw .diskFull
            }
            segments[activeID]?.preallocatedEnd = try state.file.writeZeroes(
                from: end, aheadOf: end, step: step, limit: options.segmentBytesMax)
        } catch {
            try? state.file.truncate(to: end)
            segments[activeID]?.preallocatedEnd = Int.max
        }
    }

    /// Cuts the zeroes written ahead off the active segment, before it is sealed or closed, so
    /// that a file's size is its records' size again. The caller holds `condition` and has
    /// written the append tail.
    func cutPreallocationLocked() throws(StorageError) {
        guard let state = segments[activeID], state.preallocatedEnd > state.bytes else { return }
        try state.file.truncate(to: state.bytes)
        segments[activeID]?.preallocatedEnd = 0
    }
}
