/// The append tail: under the `.batch` policy, commits append their records to memory and the
/// group-commit thread writes them all with one `pwrite` just before the fsync that makes them
/// durable, instead of one `pwrite` per commit (a fifth of a server's time per SET).
///
/// Nothing is acknowledged earlier than before: under `.batch` a write is acknowledged only
/// after that fsync, and a read only once what it saw is durable. Whatever must read the file
/// writes the tail first: a value read that misses the cache (`fileLocked(for:)`), a snapshot,
/// rotation, close. If writing the tail fails, the engine fails as after a failed fsync:
/// every waiting and later write gets the error and nothing it covered is acknowledged. (Redis
/// under `appendfsync always` exits on a failed AOF write.) Under `.everysec` and `.none`,
/// which acknowledge before any fsync, each commit is written at once, so an error (a full
/// disk) refuses that one write and the engine goes on.
extension StorageEngine {
    /// The most bytes the tail holds before the committing thread writes it itself.
    static let appendTailBytesMax = 4 << 20

    /// Adds a group of records that belongs at `offset` of the active segment to the tail.
    /// The caller holds `condition` and advances the segment's size.
    func appendToTailLocked(_ records: [UInt8], at offset: Int) throws(StorageError) {
        if appendTail.isEmpty {
            appendTailOffset = offset
        }
        precondition(
            appendTailOffset + appendTail.count == offset,
            "tail at \(appendTailOffset)+\(appendTail.count) does not end at append \(offset)")
        appendTail.append(contentsOf: records)
        if appendTail.count >= Self.appendTailBytesMax {
            try writeAppendTailLocked()
        }
    }

    /// Writes the tail to the active segment. On failure the engine fails (see above). The
    /// caller holds `condition`.
    func writeAppendTailLocked() throws(StorageError) {
        guard !appendTail.isEmpty else { return }
        if let failure { throw failure }
        guard let file = segments[activeID]?.file else {
            preconditionFailure("append tail without an active segment \(activeID)")
        }
        do throws(StorageError) {
            if let injected = appendFailureForTesting {
                appendFailureForTesting = nil
                throw injected.error
            }
            try file.write(appendTail, at: appendTailOffset)
        } catch {
            let failed = StorageError.failed("write of \(file.name) failed: \(error)")
            failure = failed
            condition.broadcast()
            throw failed
        }
        appendTailOffset += appendTail.count
        appendTail.removeAll(keepingCapacity: appendTail.capacity <= Self.appendTailBytesMax)
        preallocateLocked(after: appendTailOffset)
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
